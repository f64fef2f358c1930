// --state_file: the input is the file, loaded into a fresh small Store and
// Pacer as at start. Errors are fine; a crash or UB is not. What loads is
// saved, and that file loads and saves again to the same bytes (unless a
// pacing reason is longer than the Pacer keeps: cut, it may end mid-UTF-8).
//
// A World costs milliseconds (the Store's fixed tables): a file whose first
// line LoadState refuses changes nothing, so those share one.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "metrics/seqlock_text.h"
#include "pacing/pacer.h"
#include "proxy/ctl/json_value.h"
#include "proxy/state_file.h"
#include "tests/fuzz/fuzz_check.h"

namespace sippacer::proxy {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

struct World {
  World() : store(Options()), pacer(store, pacing::Policy(), nullptr) {}
  static metrics::StoreOptions Options() {
    metrics::StoreOptions o;
    o.max_numbers = 64;
    return o;
  }
  metrics::Store store;
  pacing::Pacer pacer;
};

// One file per process (made once, rewritten per input), removed at exit.
struct TempFiles {
  TempFiles() {
    char name[] = "/tmp/sippacer-state-fuzz-XXXXXX";
    const int fd = mkstemp(name);
    FUZZ_CHECK(fd >= 0);
    close(fd);
    input = name;
    saved = input + ".saved";
  }
  ~TempFiles() {
    for (const std::string& p : {input, saved, input + ".tmp", saved + ".tmp"}) std::remove(p.c_str());
  }
  std::string input, saved;
};

// LoadState's test of a line, for the first line of `file`.
bool FirstLineLoads(absl::string_view file) {
  auto v = ParseJson(file.substr(0, file.find('\n')));
  return v.ok() && (v->Get("n") != nullptr || v->Get("country") != nullptr);
}

bool ReasonsFit(const std::string& saved) {
  for (absl::string_view line : absl::StrSplit(saved, '\n', absl::SkipEmpty())) {
    auto v = ParseJson(line);
    FUZZ_CHECK(v.ok());
    const JsonValue* reason = v->Get("reason");
    if (reason != nullptr && reason->text.size() > metrics::SeqlockText::kBytes) return false;
  }
  return true;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace
}  // namespace sippacer::proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sippacer::proxy;
  static TempFiles files;
  {
    std::ofstream out(files.input, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    FUZZ_CHECK(out.good());
  }
  static World* const untouched = new World();
  const bool loads = FirstLineLoads(absl::string_view(reinterpret_cast<const char*>(data), size));
  std::unique_ptr<World> own = loads ? std::make_unique<World>() : nullptr;
  World& first = loads ? *own : *untouched;
  auto loaded = LoadState(files.input, first.store, first.pacer, kNow);
  if (!loaded.ok()) return 0;
  FUZZ_CHECK(loads || (loaded->numbers == 0 && loaded->countries == 0));
  FUZZ_CHECK(SaveState(files.saved, first.store, first.pacer, kNow).ok());
  const std::string saved = Slurp(files.saved);

  World second;
  FUZZ_CHECK(LoadState(files.saved, second.store, second.pacer, kNow).ok());
  FUZZ_CHECK(SaveState(files.saved, second.store, second.pacer, kNow).ok());
  if (ReasonsFit(saved)) FUZZ_CHECK(Slurp(files.saved) == saved);
  return 0;
}
