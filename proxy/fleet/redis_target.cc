#include "proxy/fleet/redis_target.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sippacer::proxy::fleet {

std::string RedisTarget::Text() const { return absl::StrCat(host, ":", port, db != 0 ? absl::StrCat("/", db) : ""); }

absl::StatusOr<RedisTarget> ParseRedisTarget(absl::string_view text) {
  RedisTarget t;
  absl::string_view rest = text;
  const bool uri = absl::ConsumePrefix(&rest, "redis://");
  if (uri && absl::StrContains(rest, '@')) {
    return absl::InvalidArgumentError("--redis: no password in the address (use --redis_password_file)");
  }
  if (const size_t slash = rest.find('/'); uri && slash != absl::string_view::npos) {
    absl::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!absl::SimpleAtoi(db, &t.db) || t.db < 0 || t.db > 255)) {
      return absl::InvalidArgumentError(absl::StrCat("--redis: bad database number '", db, "'"));
    }
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  t.host = std::string(colon == absl::string_view::npos ? rest : rest.substr(0, colon));
  if (colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &t.port) || t.port < 1 || t.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("--redis: bad port in '", text, "'"));
    }
  } else if (!uri) {
    return absl::InvalidArgumentError(
        absl::StrCat("--redis: want HOST:PORT or redis://HOST[:PORT][/DB], got '", text, "'"));
  }
  if (t.host.empty() || t.host.find_first_of(" /@") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--redis: bad host in '", text, "'"));
  }
  return t;
}

}  // namespace sippacer::proxy::fleet
