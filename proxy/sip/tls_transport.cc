// TLS toward trunks: the transport, its keys and our TLS Contact
// (docs/trunks.md).

#include <sofia-sip/sip_header.h>
#include <sofia-sip/tport_tag.h>

#include "absl/strings/str_cat.h"
#include "proxy/log.h"
#include "proxy/sip/b2bua.h"

namespace sippacer::proxy {

absl::Status B2bua::AddTlsTransport() {
  // Sofia-sip reads keys from one directory (TlsFiles). A TLS transport of
  // our own, listening, gives the carrier a TLS address in Via and Contact
  // to send its in-dialog requests to.
  auto files = TlsFiles::Make(config_.tls_cert, config_.tls_key, config_.tls_verify ? config_.tls_ca : "");
  if (!files.ok())
    return absl::InvalidArgumentError(absl::StrCat("--tls_cert/--tls_key/--tls_ca: ", files.status().message()));
  tls_files_.emplace(*std::move(files));
  const HostPort& tl = *config_.tls_listen;
  const std::string url =
      absl::StrCat("sips:", tl.host.find(':') != std::string::npos ? "[" + tl.host + "]" : tl.host, ":", tl.port);
  if (nta_agent_add_tport(agent_, URL_STRING_MAKE(url.c_str()), TPTAG_CERTIFICATE(tls_files_->dir().c_str()),
                          // The chain is checked against --tls_ca after the handshake; the
                          // name in it is not (sofia-sip 1.12 cannot match IP addresses).
                          TPTAG_TLS_VERIFY_POLICY(config_.tls_verify ? TPTLS_VERIFY_OUTGOING : TPTLS_VERIFY_NONE),
                          // A handshake or verification that fails is a transport error now
                          // (503, the next trunk), not a Timer B timeout 32 s later.
                          TPTAG_SDWN_ERROR(1), TPTAG_IDENT(TportIdent(true)),
                          TPTAG_IDLE(static_cast<unsigned>(absl::ToInt64Milliseconds(config_.tcp_idle_timeout))),
                          TAG_END()) < 0) {
    return absl::UnavailableError(absl::StrCat("--tls_listen: cannot bind ", url, " (TLS)"));
  }
  const std::string host = tl.host == "0.0.0.0" || tl.host == "::" ? local_host_ : tl.host;
  tls_contact_ =
      sip_contact_make(home_, absl::StrCat("<sip:", host.find(':') != std::string::npos ? "[" + host + "]" : host, ":",
                                           tl.port, ";transport=tls>")
                                  .c_str());
  if (tls_contact_ == nullptr) return absl::InvalidArgumentError("--tls_listen: no usable Contact");
  LogLine("INFO", "relay",
          absl::StrCat("TLS toward trunks from ", url, config_.tls_verify ? "" : " (certificates not verified)"));
  return absl::OkStatus();
}

}  // namespace sippacer::proxy
