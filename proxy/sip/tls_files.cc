#include "proxy/sip/tls_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace sippacer::proxy {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TlsFiles> TlsFiles::Make(const std::string& cert, const std::string& key, const std::string& ca) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/sippacer-tls-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot make a directory for TLS keys: ", std::strerror(errno)));
  }
  TlsFiles files(pattern);  // removes the directory again on an error below
  if (!cert.empty()) {
    auto k = ReadFile(key);
    if (!k.ok()) return k.status();
    auto c = ReadFile(cert);
    if (!c.ok()) return c.status();
    const std::string agent = absl::StrCat(files.dir_, "/agent.pem");
    if (auto s = WriteFile(agent, absl::StrCat(*k, k->empty() || k->back() == '\n' ? "" : "\n", *c)); !s.ok()) return s;
    chmod(agent.c_str(), 0600);
  }
  if (!ca.empty()) {
    auto c = ReadFile(ca);
    if (!c.ok()) return c.status();
    if (auto s = WriteFile(absl::StrCat(files.dir_, "/cafile.pem"), *c); !s.ok()) return s;
  }
  return files;
}

TlsFiles::~TlsFiles() {
  if (dir_.empty()) return;
  for (const char* name : {"agent.pem", "cafile.pem", "tls_seed.dat"}) unlink(absl::StrCat(dir_, "/", name).c_str());
  rmdir(dir_.c_str());
}

}  // namespace sippacer::proxy
