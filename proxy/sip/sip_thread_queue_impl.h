#pragma once
// EventfdSipThreadQueue: SipThreadQueue on su_root.
//
// A lock-free single-producer/single-consumer ring carries the tasks; an
// eventfd registered with su_root wakes the SIP thread, which drains the ring
// in its own loop turn. Posting never touches a sofia object.

#include <sofia-sip/su_wait.h>

#include <memory>

#include <boost/lockfree/spsc_queue.hpp>

#include "absl/status/status.h"
#include "proxy/sip_thread_queue.h"

namespace sippacer::proxy {

class EventfdSipThreadQueue : public SipThreadQueue {
 public:
  EventfdSipThreadQueue();
  ~EventfdSipThreadQueue() override;

  absl::Status Attach(su_root_t* root);  // SIP thread, once
  void Detach();                         // before the root is destroyed
  bool Post(Task task) override;         // one producer thread

 private:
  static int OnWakeup(su_root_magic_t*, su_wait_t* w, su_wakeup_arg_t* arg);
  void Drain();

  boost::lockfree::spsc_queue<Task*, boost::lockfree::capacity<4096>> ring_;
  int eventfd_ = -1;
  su_wait_t wait_[1] = {};
  su_root_t* root_ = nullptr;
};

}  // namespace sippacer::proxy
