#include "proxy/sip/sip_thread_queue_impl.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace sippacer::proxy {

EventfdSipThreadQueue::EventfdSipThreadQueue() { eventfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

EventfdSipThreadQueue::~EventfdSipThreadQueue() {
  Task* t = nullptr;
  while (ring_.pop(t)) delete t;
  Detach();
  if (eventfd_ >= 0) ::close(eventfd_);
}

void EventfdSipThreadQueue::Detach() {
  if (root_ != nullptr) su_root_unregister(root_, wait_, OnWakeup, this);
  root_ = nullptr;
}

absl::Status EventfdSipThreadQueue::Attach(su_root_t* root) {
  if (eventfd_ < 0) return absl::InternalError("eventfd() failed");
  if (su_wait_create(wait_, eventfd_, SU_WAIT_IN) != 0 || su_root_register(root, wait_, OnWakeup, this, 0) < 0) {
    return absl::InternalError("cannot register the command eventfd with su_root");
  }
  root_ = root;
  return absl::OkStatus();
}

bool EventfdSipThreadQueue::Post(Task task) {
  auto* boxed = new Task(std::move(task));
  if (!ring_.push(boxed)) {
    delete boxed;
    return false;
  }
  const uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the SIP thread will wake.
  (void)!::write(eventfd_, &one, sizeof one);
  return true;
}

int EventfdSipThreadQueue::OnWakeup(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
  static_cast<EventfdSipThreadQueue*>(static_cast<void*>(arg))->Drain();
  return 0;
}

void EventfdSipThreadQueue::Drain() {
  uint64_t count = 0;
  (void)!::read(eventfd_, &count, sizeof count);
  Task* t = nullptr;
  while (ring_.pop(t)) {
    (*t)();
    delete t;
  }
}

}  // namespace sippacer::proxy
