#pragma once
// CallLog: one number's recent calls as 4-byte events, oldest first.
//
// A rule asks how many calls, 603s, 608s ... a number had in exactly its
// window (15 minutes, 4 hours), to the second. Counters per time bucket
// answer that only to a bucket's width, and cost the same 1.2 KB for a
// number that made one call as for one that made thousands. A log costs
// what the number did: eight calls fit inline in the number's slot; a
// busy number's log moves to a larger block from a shared pool (32, 64 ...
// 16,384 events), and back when it quietens. Events older than the history
// are dropped as new ones arrive.
//
// Counting a window walks the log from its newest event back; on a block
// of 256 events or more the writer keeps a cursor per window length
// instead (the counts of that window as of its last question), moved on by
// the events that arrived and left since, so judging a busy number's rules
// stays O(1) a call.
//
// One writer (the SIP thread) appends inside the number's seqlock; readers
// on other threads copy what they need and retry when the sequence moved.
// Blocks go back to the pool, never to the allocator, so a reader racing a
// move reads stale words (and retries), never freed memory.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "metrics/outcome.h"

namespace sippacer::metrics {

// What happened: an attempt, a call refused by pacing, or a final answer.
struct CallEvent {
  enum class Kind : uint8_t { kAttempt, kPaced, kFinal };
  int64_t at_s = 0;  // Unix seconds
  Kind kind = Kind::kAttempt;
  Outcome outcome = Outcome::k2xx;  // kFinal only
  bool pre_ring_603 = false;        // a 603 with no 180/183 before it
  bool network_blocked = false;     // 603+
};

// Adds one event to counts.
void AddEvent(const CallEvent& e, CodeCounts* into);

inline constexpr int kInlineEvents = 16;     // every ring's size is a power of two
inline constexpr int kMaxLogEvents = 16384;  // a call every 1.8 s for 4 hours

// One window's counts as of `now_s`: the events numbered [tail, head).
struct WindowCursor {
  uint32_t window_s = 0;  // 0: free
  uint32_t now_s = 0;
  uint32_t tail = 0;
  uint32_t head = 0;
  CodeCounts counts;
};
// Up to 8 rule windows, the route window and the history: a cursor each,
// so a policy of many windows never makes them take turns.
inline constexpr int kCursors = 10;

// A busy number's events. `capacity` and `events` never change once the
// block is in a log; the cursors are the writer's alone.
struct LogBlock {
  explicit LogBlock(int capacity);
  const uint32_t capacity;
  const std::unique_ptr<std::atomic<uint32_t>[]> events;
  std::unique_ptr<WindowCursor[]> cursors;  // blocks of 256 events or more
  uint32_t next_cursor = 0;                 // the one to reuse next
};

struct CallLog {
  std::atomic<LogBlock*> block{nullptr};  // nullptr: the inline ring
  std::atomic<uint32_t> base_s{0};        // events count seconds from here
  std::atomic<uint16_t> first{0};         // ring index of the oldest event
  std::atomic<uint16_t> count{0};
  uint32_t appended = 0;  // writer-only: events ever appended (numbers them)
  std::atomic<uint32_t> inline_events[kInlineEvents] = {};
};

// Blocks for busy numbers' logs, by size class; writer-side except for
// the byte count.
class CallLogPool {
 public:
  CallLogPool();
  ~CallLogPool();
  CallLogPool(const CallLogPool&) = delete;
  CallLogPool& operator=(const CallLogPool&) = delete;

  // Writer: a block of exactly `events` (one of the classes), cursors free.
  LogBlock* Take(int events);
  void Give(LogBlock* block);
  // Any thread: bytes of blocks allocated so far (in use or free).
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  static int ClassOf(int events);
  std::vector<std::vector<LogBlock*>> free_;
  std::vector<std::unique_ptr<LogBlock>> owned_;
  std::atomic<uint64_t> bytes_{0};
};

// ---- writer (inside the number's seqlock) ----
// Empties the log, its block back to the pool.
void ResetLog(CallLog& log, CallLogPool& pool);
// Appends `e` and drops events `keep_s` or more seconds older than it.
// Returns false when the log was full: its oldest event was dropped, or
// `e` itself when it is a paced call (refusals never push calls out).
bool AppendEvent(CallLog& log, CallLogPool& pool, CallEvent e, int64_t keep_s);
// Adds the counts of the events in (now_s - window_s, now_s] to `out`,
// through the block's cursor for that window where it has them.
void CountWindow(CallLog& log, int64_t now_s, int64_t window_s, CodeCounts* out);
// The events, oldest first (writer side, or inside a seqlock read).
std::vector<CallEvent> Events(const CallLog& log);

// ---- any thread (inside a seqlock read) ----
// As CountWindow, walking the events.
void SumLog(const CallLog& log, int64_t now_s, int64_t window_s, CodeCounts* out);
// Calls fn(event) for each event, newest first, until fn returns false.
template <typename Fn>
void ForEachNewest(const CallLog& log, Fn&& fn);

// ---- details ----
uint32_t PackEvent(const CallEvent& e, uint32_t base_s);
CallEvent UnpackEvent(uint32_t word, uint32_t base_s);
// What happened as a number under 128 (for --state_file): an Outcome's
// index for a final, kOutcomeCount for an attempt, kOutcomeCount + 1 for a
// paced call; +32 a 603 before ringing, +64 a 603+.
int EventCode(const CallEvent& e);
CallEvent EventOfCode(int64_t at_s, int code);

template <typename Fn>
void ForEachNewest(const CallLog& log, Fn&& fn) {
  const uint32_t base = log.base_s.load(std::memory_order_relaxed);
  const uint32_t first = log.first.load(std::memory_order_relaxed);
  const uint32_t count = log.count.load(std::memory_order_relaxed);
  const LogBlock* block = log.block.load(std::memory_order_acquire);
  const std::atomic<uint32_t>* events = block ? block->events.get() : log.inline_events;
  // Racing a move, first and count may belong to another ring: indexes
  // stay inside this one, and the seqlock retries.
  const uint32_t cap = block ? block->capacity : kInlineEvents;
  for (uint32_t i = 0; i < count && i < cap; ++i) {
    const uint32_t at = (first + count - 1 - i) & (cap - 1);
    if (!fn(UnpackEvent(events[at].load(std::memory_order_relaxed), base))) return;
  }
}

}  // namespace sippacer::metrics
