// --trunks_file and --trunk: a file that parses gives trunks with unique
// names, limits in range, and URIs that parse again to the same place.

#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "proxy/sip/trunk_group.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::proxy {
namespace {

void CheckSpecs(const std::vector<TrunkSpec>& specs) {
  FUZZ_CHECK(!specs.empty() && specs.size() <= TrunkGroup::kMaxTrunks);
  std::set<std::string> names;
  for (const TrunkSpec& t : specs) {
    FUZZ_CHECK(names.insert(t.name).second);
    FUZZ_CHECK(t.priority >= 0 && t.weight >= 1 && t.max_calls >= 0 && t.max_cps >= 0);
    FUZZ_CHECK(t.port >= 0 && t.port <= 65535);
    auto again = TrunkGroup::ParseUri(absl::StrCat("sip:", t.UriHostPart()));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->host == t.host && again->port == t.port && again->transport == t.transport);
  }
}

}  // namespace
}  // namespace sippacer::proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer::proxy;
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto file = TrunkGroup::ParseFile(in); file.ok()) CheckSpecs(*file);
  if (auto list = TrunkGroup::ParseList(in); list.ok()) CheckSpecs(*list);
  return 0;
}
