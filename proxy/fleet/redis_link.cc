#include "proxy/fleet/redis_link.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sippacer::proxy::fleet {
namespace {

timeval TimevalOf(absl::Duration d) {
  const int64_t us = absl::ToInt64Microseconds(d);
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.kind = RedisReply::Kind::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.kind = r->type == REDIS_REPLY_STRING   ? RedisReply::Kind::kString
                 : r->type == REDIS_REPLY_STATUS ? RedisReply::Kind::kStatus
                                                 : RedisReply::Kind::kError;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = RedisReply::Kind::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      break;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisLink>> RedisLink::Connect(const RedisTarget& target, absl::Duration timeout) {
  redisContext* c = redisConnectWithTimeout(target.host.c_str(), target.port, TimevalOf(timeout));
  if (c == nullptr) return absl::UnavailableError("redis: out of memory");
  if (c->err != 0) {
    std::string why = c->errstr;
    redisFree(c);
    return absl::UnavailableError(absl::StrCat("redis ", target.Text(), ": ", why));
  }
  redisSetTimeout(c, TimevalOf(timeout));
  std::unique_ptr<RedisLink> link(new RedisLink(c));
  if (!target.password.empty()) {
    if (auto r = link->Run({"AUTH", target.password}); !r.ok()) {
      return absl::PermissionDeniedError(absl::StrCat("redis ", target.Text(), ": AUTH: ", r.status().message()));
    }
  }
  if (target.db != 0) {
    if (auto r = link->Run({"SELECT", absl::StrCat(target.db)}); !r.ok()) return r.status();
  }
  return link;
}

RedisLink::~RedisLink() { redisFree(c_); }

absl::Status RedisLink::Failure() {
  broken_ = true;
  return absl::UnavailableError(absl::StrCat("redis: ", c_->err != 0 ? c_->errstr : "connection lost"));
}

void RedisLink::Append(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(c_, static_cast<int>(args.size()), args.data(), lens.data()) != REDIS_OK) broken_ = true;
}

absl::StatusOr<RedisReply> RedisLink::Next() {
  if (broken_) return Failure();
  void* raw = nullptr;
  if (redisGetReply(c_, &raw) != REDIS_OK || raw == nullptr) return Failure();
  RedisReply r = Convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return r;
}

absl::StatusOr<RedisReply> RedisLink::Run(const std::vector<std::string>& argv) {
  Append(argv);
  auto r = Next();
  if (r.ok() && r->kind == RedisReply::Kind::kError) return absl::FailedPreconditionError(r->text);
  return r;
}

absl::StatusOr<RedisReply> RedisLink::Poll(absl::Duration wait) {
  if (broken_) return Failure();
  void* raw = nullptr;
  // A reply already read into the buffer comes first.
  if (redisGetReplyFromReader(c_, &raw) != REDIS_OK) return Failure();
  if (raw == nullptr) {
    pollfd p{c_->fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait)));
    if (n == 0) return RedisReply{};
    if (n < 0 || redisBufferRead(c_) != REDIS_OK) return Failure();
    if (redisGetReplyFromReader(c_, &raw) != REDIS_OK) return Failure();
    if (raw == nullptr) return RedisReply{};
  }
  RedisReply r = Convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return r;
}

}  // namespace sippacer::proxy::fleet
