#include "proxy/tcp/tcp_guard.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proxy/log.h"

namespace sippacer::proxy {
namespace {

// TCP_ESTABLISHED from <netinet/tcp.h>, which cannot be included beside
// <linux/tcp.h> (whose tcp_info has tcpi_bytes_received).
constexpr uint8_t kTcpEstablished = 1;

// "ip" and port of a socket address; false for anything but IPv4/IPv6.
bool AddressText(const sockaddr_storage& ss, std::string* ip, int* port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf);
    *port = ntohs(in.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof buf);
    *port = ntohs(in6.sin6_port);
  } else {
    return false;
  }
  *ip = buf;
  return true;
}

bool PeerOf(int fd, std::string* ip, int* port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  return getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 && AddressText(ss, ip, port);
}

}  // namespace

size_t TcpCapForFileLimit(size_t flag, size_t file_limit) {
  constexpr size_t kReserve = 256;
  const size_t fits = file_limit > 2 * kReserve ? file_limit - kReserve : file_limit / 2;
  return std::max<size_t>(1, std::min(flag, fits));
}

TcpGuard::TcpGuard(std::vector<int> local_ports, std::vector<std::string> exempt_peers, TcpLimits limits,
                   RelayCounters& counters)
    : fd_dir_(opendir("/proc/self/fd")),
      local_ports_(std::move(local_ports)),
      exempt_peers_(std::move(exempt_peers)),
      limits_(limits),
      counters_(counters) {
  if (fd_dir_ == nullptr) LogLine("WARN", "tcp", "/proc/self/fd cannot be read: TCP connections are not capped");
}

TcpGuard::~TcpGuard() {
  if (fd_dir_ != nullptr) closedir(fd_dir_);
}

absl::Duration TcpGuard::Sweep(absl::Time now) {
  if (fd_dir_ == nullptr) return absl::Seconds(1);
  DIR* dir = fd_dir_;
  rewinddir(dir);
  std::vector<Socket> sockets;
  std::vector<TcpConnection> conns;
  absl::flat_hash_map<std::string, absl::Time> seen_now;
  while (dirent* e = readdir(dir)) {
    int fd = 0;
    if (!absl::SimpleAtoi(e->d_name, &fd) || fd == dirfd(dir)) continue;
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening) continue;
    sockaddr_storage local{};
    len = sizeof local;
    std::string local_ip, peer_ip;
    int local_port = 0, peer_port = 0;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
        !AddressText(local, &local_ip, &local_port) ||
        std::find(local_ports_.begin(), local_ports_.end(), local_port) == local_ports_.end() ||
        !PeerOf(fd, &peer_ip, &peer_port)) {
      continue;
    }
    std::string peer = absl::StrCat(peer_ip, ":", peer_port);
    if (std::find(exempt_peers_.begin(), exempt_peers_.end(), peer) != exempt_peers_.end()) continue;
    tcp_info info{};
    len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 || info.tcpi_state != kTcpEstablished) continue;
    std::string key = absl::StrCat(fd, " ", peer);
    auto it = first_seen_.find(key);
    const absl::Time first = it == first_seen_.end() ? now : it->second;
    seen_now.emplace(key, first);
    conns.push_back(TcpConnection{peer_ip, first, info.tcpi_bytes_received == 0});
    sockets.push_back(Socket{fd, std::move(peer)});
  }
  first_seen_ = std::move(seen_now);
  counters_.tcp_connections.value.store(conns.size(), std::memory_order_relaxed);

  for (const CloseOrder& order : ConnectionsToClose(conns, limits_, now)) {
    const Socket& s = sockets[order.index];
    // The descriptor may have been closed and reused since the scan: only
    // the same connection is shut down.
    std::string ip;
    int port = 0;
    if (!PeerOf(s.fd, &ip, &port) || absl::StrCat(ip, ":", port) != s.peer) continue;
    shutdown(s.fd, SHUT_RDWR);
    if (order.reason == CloseReason::kSilent) {
      counters_.tcp_closed_silent.Add();
    } else {
      counters_.tcp_closed_over_limit.Add();
    }
    LogRateLimited("WARN", "tcp",
                   absl::StrCat("closed TCP connections (", CloseReasonName(order.reason), "), e.g. from ", s.peer),
                   CloseReasonName(order.reason));
  }
  return conns.size() > limits_.max_total / 2 ? absl::Milliseconds(100) : absl::Seconds(1);
}

}  // namespace sippacer::proxy
