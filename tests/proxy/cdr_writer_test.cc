#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "proxy/cdr/cdr_writer.h"

namespace sippacer::proxy {
namespace {

TEST_CASE("records past the PostgreSQL backlog bound are counted as dropped", "[proxy]") {
  CdrOptions o;
  o.postgres = "host=127.0.0.1 port=1 dbname=none";  // nothing listens: every connect fails
  o.postgres_backlog = 10;
  auto writer = CdrWriter::Start(o);
  REQUIRE(writer.ok());
  for (int i = 0; i < 25; ++i) {
    CdrRecord r;
    r.a_call_id = std::to_string(i);
    (*writer)->Push(std::move(r));
  }
  CdrWriter::Status s;
  for (int i = 0; i < 250; ++i) {
    s = (*writer)->status();
    if (s.dropped == 15) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(s.dropped == 15);
  CHECK(s.queued == 10);  // kept for when the database comes back
  CHECK_FALSE(s.postgres_connected);
  CHECK_FALSE(s.last_error.empty());
  (*writer)->Stop(absl::Milliseconds(100));
}

}  // namespace
}  // namespace sippacer::proxy
