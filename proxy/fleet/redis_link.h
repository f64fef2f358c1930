#pragma once
// RedisLink: one connection to Redis (or Valkey) through hiredis, for the
// fleet's threads only, never the SIP thread (docs/fleet.md).
//
// Blocking calls with a deadline: a Redis that stops answering costs the
// calling thread at most `timeout` and then the link is broken (callers
// drop it and connect again). Commands can be pipelined: Append many, then
// read as many replies with Next.
//
// Example:
//   auto link = RedisLink::Connect(target, absl::Seconds(2));
//   if (link.ok()) auto r = (*link)->Run({"HGETALL", key});

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proxy/fleet/redis_target.h"

struct redisContext;

namespace sippacer::proxy::fleet {

struct RedisReply {
  enum class Kind { kNil, kInteger, kString, kStatus, kError, kArray };
  Kind kind = Kind::kNil;
  long long integer = 0;
  std::string text;  // string, status or error
  std::vector<RedisReply> elements;
};

class RedisLink {
 public:
  // Connects, authenticates and selects the database.
  static absl::StatusOr<std::unique_ptr<RedisLink>> Connect(const RedisTarget& target, absl::Duration timeout);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // One command and its reply (an error reply is an error status).
  absl::StatusOr<RedisReply> Run(const std::vector<std::string>& argv);
  // Pipelining.
  void Append(const std::vector<std::string>& argv);
  absl::StatusOr<RedisReply> Next();
  // Subscribers: the next pushed message, or nullopt-like kNil after
  // `wait` with nothing to read.
  absl::StatusOr<RedisReply> Poll(absl::Duration wait);
  bool broken() const { return broken_; }

 private:
  explicit RedisLink(redisContext* c) : c_(c) {}
  absl::Status Failure();
  redisContext* c_;
  bool broken_ = false;
};

}  // namespace sippacer::proxy::fleet
