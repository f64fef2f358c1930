#pragma once
// SipThreadQueue: how other threads ask the SIP thread to do something.
//
// sofia-sip objects (and the Pacer's writer side) belong to the thread that
// runs su_root. The stats thread posts a closure here; the SIP thread runs it
// on its next loop turn, woken by an eventfd registered with su_root. Single
// producer (the stats thread's io_context), single consumer (the SIP thread).
//
// Example (stats thread):
//   queue.Post([&pacer, n, reply = std::move(reply)]() mutable {
//     reply(pacer.Release(n, absl::Now()));   // runs on the SIP thread
//   });

#include <functional>

namespace sippacer::proxy {

class SipThreadQueue {
 public:
  using Task = std::function<void()>;
  virtual ~SipThreadQueue() = default;
  // Returns false when the queue is full (the caller answers an error).
  virtual bool Post(Task task) = 0;
};

}  // namespace sippacer::proxy
