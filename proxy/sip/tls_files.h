#pragma once
// TlsFiles: the directory sofia-sip's TLS transport reads its keys from.
//
// Sofia-sip 1.12 takes one directory (TPTAG_CERTIFICATE): agent.pem holds
// our private key and certificate, cafile.pem the CAs a peer's certificate
// must chain to. Operators give three files (--tls_cert, --tls_key,
// --tls_ca); this builds that directory from them, private (0700) under
// $TMPDIR, and removes it when the daemon stops.

#include <string>

#include "absl/status/statusor.h"

namespace sippacer::proxy {

class TlsFiles {
 public:
  // `cert` and `key` may both be empty (no client certificate); `ca` may be
  // empty when nothing is verified.
  static absl::StatusOr<TlsFiles> Make(const std::string& cert, const std::string& key, const std::string& ca);
  TlsFiles(TlsFiles&& other) noexcept : dir_(std::move(other.dir_)) { other.dir_.clear(); }
  TlsFiles& operator=(TlsFiles&&) = delete;
  TlsFiles(const TlsFiles&) = delete;
  ~TlsFiles();

  const std::string& dir() const { return dir_; }

 private:
  explicit TlsFiles(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace sippacer::proxy
