// --state_file: the input is the file, loaded into a fresh small Store and
// Pacer as at start. Errors are fine; a crash or UB is not. What loads is
// saved, and that file loads and saves again to the same bytes (unless a
// pacing reason is longer than the Pacer keeps: cut, it may end mid-UTF-8).
//
// A World costs milliseconds (the Store's fixed tables): a file whose first
// line LoadState refuses changes nothing, so those share one.

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
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

// The input as a file LoadState opens by name: a memfd, nothing on disk
// (libFuzzer may end the process without running destructors).
const std::string& InputFile(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("sippacer-state-fuzz", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  FUZZ_CHECK(fd >= 0 && ftruncate(fd, 0) == 0);
  FUZZ_CHECK(pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
  return path;
}

// SaveState renames PATH.tmp over PATH: a directory of its own, per input.
struct SaveDir {
  SaveDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sippacer-state-fuzz-XXXXXX").string();
    FUZZ_CHECK(mkdtemp(t.data()) != nullptr);
    dir = t;
    file = dir + "/state";
  }
  ~SaveDir() {
    std::remove(file.c_str());
    std::remove((file + ".tmp").c_str());
    rmdir(dir.c_str());
  }
  std::string dir, file;
};

// LoadState's test of a line, for the first line of `file`.
bool FirstLineLoads(absl::string_view file) {
  auto v = ParseJson(file.substr(0, file.find('\n')));
  return v.ok() && (v->Get("n") != nullptr || v->Get("country") != nullptr || v->Get("policy") != nullptr);
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
  const std::string& input = InputFile(data, size);
  static World* const untouched = new World();
  const bool loads = FirstLineLoads(absl::string_view(reinterpret_cast<const char*>(data), size));
  std::unique_ptr<World> own = loads ? std::make_unique<World>() : nullptr;
  World& first = loads ? *own : *untouched;
  auto loaded = LoadState(input, first.store, first.pacer, kNow);
  if (!loaded.ok()) return 0;
  FUZZ_CHECK(loads || (loaded->numbers == 0 && loaded->countries == 0 && loaded->policy_kept.empty()));
  SaveDir out;
  FUZZ_CHECK(SaveState(out.file, first.store, first.pacer, kNow).ok());
  const std::string saved = Slurp(out.file);

  World second;
  FUZZ_CHECK(LoadState(out.file, second.store, second.pacer, kNow).ok());
  FUZZ_CHECK(SaveState(out.file, second.store, second.pacer, kNow).ok());
  if (ReasonsFit(saved)) FUZZ_CHECK(Slurp(out.file) == saved);
  return 0;
}
