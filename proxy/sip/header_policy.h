#pragma once
// HeaderPolicy: which headers the relay passes from one leg to the other
// and which it owns (docs/headers.md).
//
// A B2BUA builds each leg's messages itself; headers it does not own would
// otherwise stop at it. What a carrier or a dialer needs passes through by
// name, as received: STIR/SHAKEN's Identity (RFC 8224), the caller's
// identity and privacy, forwarding (Diversion, History-Info), billing
// (P-Charge-Info), why a call failed (Reason, Call-Info, Warning,
// Retry-After), session timers (Session-Expires, Min-SE), capabilities
// (Allow, Accept), REFER's and NOTIFY's, INFO's packages, X- headers.
// What addresses a hop or a transaction (Via, Contact, tags, CSeq ...) is
// owned and never passed. Supported and Require are the relay's too: they
// carry the option tags it serves (RelayedOptionTags).
//
// `--pass_headers` adds names to the default list and `--strip_headers`
// removes names from it; a name ending in '-' is a prefix.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sippacer::proxy {

class HeaderPolicy {
 public:
  static constexpr absl::string_view kDefaultPass =
      "Identity,P-Asserted-Identity,P-Preferred-Identity,Privacy,Remote-Party-ID,Diversion,History-Info,"
      "P-Charge-Info,P-Charging-Vector,P-Early-Media,Call-Info,Alert-Info,Error-Info,User-to-User,Reason,Warning,"
      "Retry-After,Session-Expires,Min-SE,Allow,Allow-Events,Accept,Accept-Encoding,Accept-Language,Unsupported,"
      "User-Agent,Server,Organization,Subject,Priority,Date,Expires,Refer-To,Referred-By,Refer-Sub,Replaces,"
      "Event,Subscription-State,Info-Package,Recv-Info,Content-Disposition,Content-Encoding,Content-Language,"
      "MIME-Version,Reply-To,In-Reply-To,Geolocation,Geolocation-Routing,Resource-Priority,"
      "Accept-Resource-Priority,X-";
  // Headers of a hop, a transaction or a dialog, which the relay makes for
  // each leg itself: no flag passes them.
  static constexpr absl::string_view kOwned =
      "Via,Route,Record-Route,Contact,Call-ID,From,To,CSeq,Max-Forwards,Content-Length,Content-Type,Supported,"
      "Require,Proxy-Require,RSeq,RAck,Timestamp,Authorization,Proxy-Authorization,WWW-Authenticate,"
      "Proxy-Authenticate,Authentication-Info,Proxy-Authentication-Info,Path,Service-Route,Security-Client,"
      "Security-Server,Security-Verify";
  // The option tags the relay serves end to end: 100rel per leg (it PRACKs
  // the carrier's reliable provisionals and sends the dialer reliable ones
  // when asked), session timers relayed and policed, REFER and its NOTIFYs
  // relayed (with or without the subscription), History-Info.
  static constexpr absl::string_view kOptionTags = "100rel,timer,replaces,norefersub,histinfo";

  // Comma-separated names to add to kDefaultPass and to strip from it; an
  // error names the bad entry.
  static absl::StatusOr<HeaderPolicy> Parse(absl::string_view pass, absl::string_view strip);

  // Whether a header of this name crosses to the other leg.
  bool Passes(absl::string_view name) const;
  // The full name of a compact form ("y" -> "Identity"); others unchanged.
  static absl::string_view CanonicalName(absl::string_view name);
  // Whether the relay serves this option tag (kOptionTags).
  static bool ServesOptionTag(absl::string_view tag);

 private:
  struct Pattern {
    std::string name;  // lower case
    bool prefix = false;
  };
  static bool Matches(const std::vector<Pattern>& list, absl::string_view name);
  std::vector<Pattern> pass_, strip_;
};

}  // namespace sippacer::proxy
