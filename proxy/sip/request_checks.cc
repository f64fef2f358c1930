// What the relay reads off a request before acting on it: where it came
// from, whether its headers and targets are usable, whether it looped, and
// the request-URI it gets toward the trunk.

#include <arpa/inet.h>

#include <cstdlib>

#include <sofia-sip/sip_header.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "proxy/sip/b2bua.h"

namespace sippacer::proxy {

bool B2bua::FromTrunk(const sockaddr* sa) const {
  if (sa == nullptr) return false;
  char host[64] = {};
  int port = 0;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  for (const TrunkSpec& trunk : config_.trunks) {
    if (trunk.host != host) continue;
    // A dialer on the trunk's own host is told apart by port.
    const int trunk_port = trunk.port == 0 ? (trunk.tls() ? 5061 : 5060) : trunk.port;
    if (port == trunk_port || !config_.allow.Contains(sa)) return true;
  }
  return false;
}

std::string B2bua::TrunkRequestUri(const url_t* dialed, const TrunkSpec& trunk) const {
  // The dialed number as the dialer wrote it: a tel: URI's parameters (LNP's
  // npdi and rn) become user parameters, and a telephone number keeps
  // ";user=phone" (always for tel:), which carriers route on.
  std::string user = dialed->url_user ? dialed->url_user : "";
  bool phone = dialed->url_type == url_tel;
  if (phone && dialed->url_params != nullptr) absl::StrAppend(&user, ";", dialed->url_params);
  char value[16] = {};
  if (!phone && dialed->url_params != nullptr && url_param(dialed->url_params, "user", value, sizeof value) > 0) {
    phone = absl::EqualsIgnoreCase(value, "phone");
  }
  return absl::StrCat(trunk.tls() && absl::StartsWith(trunk.uri, "sips:") ? "sips:" : "sip:", user, "@",
                      trunk.UriHostPart(), phone ? ";user=phone" : "");
}

bool B2bua::HasBadHeader(const sip_t* sip, absl::string_view name) const {
  // Sofia lists two kinds of header here: those that did not parse (of the
  // error class, named by er_name) and a second copy of a header that may
  // appear once (of its own class: "Max-Forwards: 70" twice). Both are bad.
  for (const msg_header_t* h = reinterpret_cast<const msg_header_t*>(sip->sip_error); h != nullptr; h = h->sh_next) {
    const char* header_name =
        h->sh_class == sip_error_class ? reinterpret_cast<const sip_error_t*>(h)->er_name : h->sh_class->hc_name;
    if (header_name != nullptr && absl::EqualsIgnoreCase(header_name, name)) return true;
  }
  return false;
}

bool B2bua::UsableTarget(const sip_contact_t* contact, const sip_record_route_t* route) {
  // A URI with a line break or another control character in it (folded
  // inside the <>) would become the request line of what we send there.
  auto clean = [](const url_t* u) {
    for (const char* part :
         {u->url_user, u->url_password, u->url_host, u->url_port, u->url_path, u->url_params, u->url_headers}) {
      for (const char* c = part; c != nullptr && *c != '\0'; ++c) {
        if (static_cast<unsigned char>(*c) < 0x20 || *c == 0x7f) return false;
      }
    }
    return true;
  };
  for (const sip_contact_t* m = contact; m != nullptr; m = m->m_next) {
    if (!clean(m->m_url)) return false;
  }
  for (const sip_record_route_t* r = route; r != nullptr; r = r->r_next) {
    if (!clean(r->r_url)) return false;
  }
  return true;
}

bool B2bua::ViaShowsUs(const sip_t* sip) const {
  const bool wildcard = config_.listen.host == "0.0.0.0" || config_.listen.host == "::";
  for (const sip_via_t* v = sip->sip_via; v != nullptr; v = v->v_next) {
    if (v->v_host == nullptr) continue;
    const int port = v->v_port ? std::atoi(v->v_port) : 5060;
    const absl::string_view host = v->v_host;
    const bool ours_listen =
        port == config_.listen.port && (host == config_.listen.host || host == local_host_ || wildcard);
    const bool ours_trunk = config_.trunk_listen && port == config_.trunk_listen->port &&
                            (host == config_.trunk_listen->host || host == local_host_);
    if (ours_listen || ours_trunk) return true;
  }
  return false;
}

}  // namespace sippacer::proxy
