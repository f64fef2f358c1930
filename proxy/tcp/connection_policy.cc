#include "proxy/tcp/connection_policy.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace sippacer::proxy {

const char* CloseReasonName(CloseReason r) {
  switch (r) {
    case CloseReason::kSilent:
      return "silent";
    case CloseReason::kPerSource:
      return "per_source";
    case CloseReason::kTotal:
      return "total";
  }
  return "";
}

std::vector<CloseOrder> ConnectionsToClose(const std::vector<TcpConnection>& conns, const TcpLimits& limits,
                                           absl::Time now) {
  std::vector<CloseOrder> out;
  std::vector<bool> closing(conns.size(), false);
  // Per source, the connections still open, oldest first.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_source;
  for (size_t i = 0; i < conns.size(); ++i) {
    if (conns[i].silent && now - conns[i].first_seen >= limits.silent_after) {
      out.push_back({i, CloseReason::kSilent});
      closing[i] = true;
      continue;
    }
    by_source[conns[i].source].push_back(i);
  }
  auto oldest_first = [&conns](size_t a, size_t b) {
    return conns[a].first_seen != conns[b].first_seen ? conns[a].first_seen < conns[b].first_seen : a < b;
  };
  size_t open = 0;
  for (auto& [source, list] : by_source) {
    std::sort(list.begin(), list.end(), oldest_first);
    while (list.size() > limits.max_per_source) {
      out.push_back({list.back(), CloseReason::kPerSource});
      list.pop_back();
    }
    open += list.size();
  }
  if (open <= limits.max_total) return out;
  // Over the total: the newest connection of the largest source goes first,
  // one at a time, so sources are levelled down rather than one emptied.
  std::vector<std::vector<size_t>*> sources;
  for (auto& [source, list] : by_source) sources.push_back(&list);
  auto larger = [&conns](const std::vector<size_t>* a, const std::vector<size_t>* b) {
    if (a->size() != b->size()) return a->size() < b->size();
    return conns[a->back()].first_seen < conns[b->back()].first_seen;  // tie: the newest connection goes
  };
  std::make_heap(sources.begin(), sources.end(), larger);
  while (open > limits.max_total) {
    std::pop_heap(sources.begin(), sources.end(), larger);
    std::vector<size_t>* list = sources.back();
    out.push_back({list->back(), CloseReason::kTotal});
    list->pop_back();
    --open;
    if (list->empty()) {
      sources.pop_back();
    } else {
      std::push_heap(sources.begin(), sources.end(), larger);
    }
  }
  return out;
}

}  // namespace sippacer::proxy
