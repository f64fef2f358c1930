#pragma once
// RedisTarget: where the fleet's Redis (or Valkey) is (docs/fleet.md).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sippacer::proxy::fleet {

// Where Redis is: --redis=HOST:PORT or redis://HOST[:PORT][/DB]; the
// password comes from --redis_password_file, never from the command line.
struct RedisTarget {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;
  std::string Text() const;  // "host:port[/db]"
};
absl::StatusOr<RedisTarget> ParseRedisTarget(absl::string_view text);

}  // namespace sippacer::proxy::fleet
