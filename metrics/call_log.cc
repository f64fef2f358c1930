#include "metrics/call_log.h"

#include <algorithm>
#include <vector>

namespace sippacer::metrics {
namespace {

// An event word: bits 0-4 what (an Outcome, or kAttemptCode / kPacedCode),
// bit 5 a 603 before ringing, bit 6 a 603+, bits 7-31 seconds after the
// log's base (388 days: far past any rule's window, at most 7 days).
constexpr uint32_t kAttemptCode = kOutcomeCount;
constexpr uint32_t kPacedCode = kOutcomeCount + 1;
constexpr uint32_t kPreRingBit = 1u << 5;
constexpr uint32_t kBlockedBit = 1u << 6;
constexpr int kTimeShift = 7;
constexpr int64_t kMaxOffset = (int64_t{1} << (32 - kTimeShift)) - 1;

// Block sizes double: a log that grew is at least half full.
constexpr int kClasses[] = {32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, kMaxLogEvents};
constexpr int kCursorsFrom = 256;  // smaller logs are walked: at most 128 events

template <typename T>
void Put(std::atomic<T>& a, T v) {
  a.store(v, std::memory_order_relaxed);
}
template <typename T>
T Get(const std::atomic<T>& a) {
  return a.load(std::memory_order_relaxed);
}

std::atomic<uint32_t>* Ring(CallLog& log) {
  LogBlock* b = Get(log.block);
  return b ? b->events.get() : log.inline_events;
}

uint32_t CapacityOf(const CallLog& log) {
  const LogBlock* b = Get(log.block);
  return b ? b->capacity : kInlineEvents;
}

// The writer's view of event number n (oldest: appended - count).
CallEvent EventNumbered(CallLog& log, uint32_t n) {
  const uint32_t oldest = log.appended - Get(log.count);
  return UnpackEvent(Get(Ring(log)[(Get(log.first) + (n - oldest)) & (CapacityOf(log) - 1)]), Get(log.base_s));
}

void SubtractEvent(const CallEvent& e, CodeCounts* from) {
  switch (e.kind) {
    case CallEvent::Kind::kAttempt:
      --from->attempts;
      break;
    case CallEvent::Kind::kPaced:
      --from->paced;
      break;
    case CallEvent::Kind::kFinal:
      --from->by_outcome[static_cast<int>(e.outcome)];
      if (e.pre_ring_603) --from->pre_ring_603;
      if (e.network_blocked) --from->network_blocked;
      break;
  }
}

// Forgets the oldest event, and takes it out of every cursor counting it.
void DropOldest(CallLog& log) {
  const uint32_t oldest = log.appended - Get(log.count);
  if (LogBlock* b = Get(log.block); b && b->cursors) {
    const CallEvent e = EventNumbered(log, oldest);
    for (int i = 0; i < kCursors; ++i) {
      WindowCursor& c = b->cursors[i];
      if (c.window_s == 0 || c.tail != oldest) continue;
      if (c.head != c.tail) {
        SubtractEvent(e, &c.counts);
      } else {
        ++c.head;
      }
      ++c.tail;
    }
  }
  Put(log.first, static_cast<uint16_t>((Get(log.first) + 1) & (CapacityOf(log) - 1)));
  Put(log.count, static_cast<uint16_t>(Get(log.count) - 1));
}

// The smallest size that holds `events` (inline, or a class).
int CapacityFor(int events) {
  if (events <= kInlineEvents) return kInlineEvents;
  for (int c : kClasses) {
    if (events <= c) return c;
  }
  return kMaxLogEvents;
}

// Moves the events to a ring of `capacity`, oldest at index 0.
void Move(CallLog& log, CallLogPool& pool, int capacity) {
  const uint32_t old_capacity = CapacityOf(log);
  std::atomic<uint32_t>* from = Ring(log);
  LogBlock* old_block = Get(log.block);
  LogBlock* to_block = capacity == kInlineEvents ? nullptr : pool.Take(capacity);
  std::atomic<uint32_t>* to = to_block ? to_block->events.get() : log.inline_events;
  const int count = Get(log.count);
  const int first = Get(log.first);
  // Into the inline ring from a block: the inline words are free to
  // overwrite (the events are all in the block).
  for (int i = 0; i < count; ++i) Put(to[i], Get(from[(first + i) & (old_capacity - 1)]));
  if (old_block && old_block->cursors && to_block && to_block->cursors) {
    // Event numbers carry over, and so do the cursors.
    std::copy_n(old_block->cursors.get(), kCursors, to_block->cursors.get());
    to_block->next_cursor = old_block->next_cursor;
  }
  log.block.store(to_block, std::memory_order_release);
  Put(log.first, uint16_t{0});
  if (old_block) pool.Give(old_block);
}

}  // namespace

uint32_t PackEvent(const CallEvent& e, uint32_t base_s) {
  uint32_t what = e.kind == CallEvent::Kind::kAttempt ? kAttemptCode
                  : e.kind == CallEvent::Kind::kPaced ? kPacedCode
                                                      : static_cast<uint32_t>(e.outcome);
  if (e.pre_ring_603) what |= kPreRingBit;
  if (e.network_blocked) what |= kBlockedBit;
  const int64_t offset = std::clamp<int64_t>(e.at_s - base_s, 0, kMaxOffset);
  return static_cast<uint32_t>(offset) << kTimeShift | what;
}

CallEvent UnpackEvent(uint32_t word, uint32_t base_s) {
  CallEvent e;
  e.at_s = static_cast<int64_t>(base_s) + (word >> kTimeShift);
  const uint32_t what = word & 31;
  e.pre_ring_603 = word & kPreRingBit;
  e.network_blocked = word & kBlockedBit;
  if (what == kAttemptCode) {
    e.kind = CallEvent::Kind::kAttempt;
  } else if (what == kPacedCode) {
    e.kind = CallEvent::Kind::kPaced;
  } else {
    e.kind = CallEvent::Kind::kFinal;
    e.outcome = static_cast<Outcome>(std::min<uint32_t>(what, kOutcomeCount - 1));
  }
  return e;
}

int EventCode(const CallEvent& e) {
  return static_cast<int>(PackEvent(CallEvent{0, e.kind, e.outcome, e.pre_ring_603, e.network_blocked}, 0));
}

CallEvent EventOfCode(int64_t at_s, int code) {
  CallEvent e = UnpackEvent(static_cast<uint32_t>(code) & ((1u << kTimeShift) - 1), 0);
  e.at_s = at_s;
  return e;
}

void AddEvent(const CallEvent& e, CodeCounts* into) {
  switch (e.kind) {
    case CallEvent::Kind::kAttempt:
      ++into->attempts;
      break;
    case CallEvent::Kind::kPaced:
      ++into->paced;
      break;
    case CallEvent::Kind::kFinal:
      ++into->by_outcome[static_cast<int>(e.outcome)];
      if (e.pre_ring_603) ++into->pre_ring_603;
      if (e.network_blocked) ++into->network_blocked;
      break;
  }
}

LogBlock::LogBlock(int capacity_events)
    : capacity(static_cast<uint32_t>(capacity_events)),
      events(new std::atomic<uint32_t>[static_cast<size_t>(capacity_events)]()),
      cursors(capacity_events >= kCursorsFrom ? new WindowCursor[kCursors] : nullptr) {}

CallLogPool::CallLogPool() : free_(std::size(kClasses)) {}
CallLogPool::~CallLogPool() = default;

int CallLogPool::ClassOf(int events) {
  for (size_t i = 0; i < std::size(kClasses); ++i) {
    if (kClasses[i] == events) return static_cast<int>(i);
  }
  return -1;
}

LogBlock* CallLogPool::Take(int events) {
  std::vector<LogBlock*>& free = free_[static_cast<size_t>(ClassOf(events))];
  LogBlock* b = nullptr;
  if (!free.empty()) {
    b = free.back();
    free.pop_back();
  } else {
    // At most 64 KB: the largest class, below glibc's mmap threshold.
    owned_.push_back(std::make_unique<LogBlock>(events));
    b = owned_.back().get();
    const uint64_t cursors = b->cursors ? sizeof(WindowCursor) * kCursors : 0;
    bytes_.fetch_add(sizeof(LogBlock) + sizeof(uint32_t) * static_cast<uint64_t>(events) + cursors,
                     std::memory_order_relaxed);
  }
  if (b->cursors) {
    for (int i = 0; i < kCursors; ++i) b->cursors[i] = WindowCursor{};
  }
  b->next_cursor = 0;
  return b;
}

void CallLogPool::Give(LogBlock* block) {
  free_[static_cast<size_t>(ClassOf(static_cast<int>(block->capacity)))].push_back(block);
}

void ResetLog(CallLog& log, CallLogPool& pool) {
  if (LogBlock* b = Get(log.block)) {
    log.block.store(nullptr, std::memory_order_release);
    pool.Give(b);
  }
  Put(log.first, uint16_t{0});
  Put(log.count, uint16_t{0});
  Put(log.base_s, uint32_t{0});
}

bool AppendEvent(CallLog& log, CallLogPool& pool, CallEvent e, int64_t keep_s) {
  if (Get(log.count) > 0) {
    // Time only moves forward in the log (a clock stepped back counts at
    // the newest event's second), so every window is a suffix.
    e.at_s = std::max(e.at_s, EventNumbered(log, log.appended - 1).at_s);
    // Drop what the history no longer covers.
    while (Get(log.count) > 0 && e.at_s - EventNumbered(log, log.appended - Get(log.count)).at_s >= keep_s) {
      DropOldest(log);
    }
  }
  if (Get(log.count) == 0) {
    Put(log.base_s, static_cast<uint32_t>(std::max<int64_t>(0, e.at_s)));
  } else if (e.at_s - Get(log.base_s) > kMaxOffset) {
    // Offsets run out after 388 days of a number never quiet for a whole
    // history: count the events kept from the oldest of them instead.
    const std::vector<CallEvent> kept = Events(log);
    const auto base = static_cast<uint32_t>(std::max<int64_t>(0, kept.front().at_s));
    std::atomic<uint32_t>* ring = Ring(log);
    const uint32_t mask = CapacityOf(log) - 1;
    for (size_t i = 0; i < kept.size(); ++i) Put(ring[(Get(log.first) + i) & mask], PackEvent(kept[i], base));
    Put(log.base_s, base);
  }
  const int count = Get(log.count);
  const int capacity = static_cast<int>(CapacityOf(log));
  if (count == capacity && capacity == kMaxLogEvents && e.kind == CallEvent::Kind::kPaced) {
    // A paced number's dialer retrying fast must not push the calls it made
    // out of its history: a full log keeps them and drops the refusal.
    return false;
  }
  bool kept_all = true;
  if (count == capacity) {
    if (capacity < kMaxLogEvents) {
      Move(log, pool, CapacityFor(count + 1));
    } else {
      DropOldest(log);
      kept_all = false;
    }
  } else if (capacity > kInlineEvents && (count + 1) * 8 <= capacity) {
    // A number gone quiet gives its block back (at an eighth, not a half:
    // a number near a size would move at every call).
    Move(log, pool, CapacityFor(count + 1));
  }
  const int now_count = Get(log.count);
  Put(Ring(log)[(Get(log.first) + now_count) & (CapacityOf(log) - 1)], PackEvent(e, Get(log.base_s)));
  Put(log.count, static_cast<uint16_t>(now_count + 1));
  ++log.appended;
  return kept_all;
}

void CountWindow(CallLog& log, int64_t now_s, int64_t window_s, CodeCounts* out) {
  LogBlock* b = Get(log.block);
  if (b == nullptr || b->cursors == nullptr || window_s <= 0 || now_s < 0) {
    SumLog(log, now_s, window_s, out);
    return;
  }
  const auto now = static_cast<uint32_t>(now_s);
  const auto window = static_cast<uint32_t>(std::min<int64_t>(window_s, UINT32_MAX));
  WindowCursor* c = nullptr;
  for (int i = 0; i < kCursors && c == nullptr; ++i) {
    if (b->cursors[i].window_s == window) c = &b->cursors[i];
  }
  const uint32_t oldest = log.appended - Get(log.count);
  // Event numbers wrap at 2^32: compare them by distance.
  auto before = [](uint32_t x, uint32_t y) { return static_cast<int32_t>(x - y) < 0; };
  if (c == nullptr || now < c->now_s || before(c->tail, oldest) || before(c->head, c->tail) ||
      before(log.appended, c->head)) {
    for (int i = 0; i < kCursors && c == nullptr; ++i) {
      if (b->cursors[i].window_s == 0) c = &b->cursors[i];
    }
    if (c == nullptr) c = &b->cursors[b->next_cursor++ % kCursors];  // more windows than cursors
    *c = WindowCursor{window, now, oldest, oldest, CodeCounts{}};
  }
  for (; c->head != log.appended; ++c->head) {
    const CallEvent e = EventNumbered(log, c->head);
    if (e.at_s > now_s) break;
    AddEvent(e, &c->counts);
  }
  for (; c->tail != c->head; ++c->tail) {
    const CallEvent e = EventNumbered(log, c->tail);
    if (now_s - e.at_s < window_s) break;
    SubtractEvent(e, &c->counts);
  }
  c->now_s = now;
  AddCounts(*out, c->counts);
}

std::vector<CallEvent> Events(const CallLog& log) {
  std::vector<CallEvent> out;
  ForEachNewest(log, [&out](const CallEvent& e) {
    out.push_back(e);
    return true;
  });
  std::reverse(out.begin(), out.end());
  return out;
}

void SumLog(const CallLog& log, int64_t now_s, int64_t window_s, CodeCounts* out) {
  ForEachNewest(log, [&](const CallEvent& e) {
    if (now_s - e.at_s >= window_s) return false;
    if (e.at_s <= now_s) AddEvent(e, out);
    return true;
  });
}

}  // namespace sippacer::metrics
