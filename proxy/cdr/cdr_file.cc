#include "proxy/cdr/cdr_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sippacer::proxy {

CdrFile::~CdrFile() {
  (void)Flush();
  if (fd_ >= 0) ::close(fd_);
}

absl::Status CdrFile::Open() {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot open ", path_, ": ", std::strerror(errno)));
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return absl::OkStatus();
}

absl::Status CdrFile::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  if (fd_ < 0) return absl::UnavailableError(absl::StrCat(path_, " is not open"));
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      buffer_.erase(0, done);  // keep what did not reach the file; retried next flush
      return absl::UnavailableError(absl::StrCat("writing ", path_, ": ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return absl::OkStatus();
}

}  // namespace sippacer::proxy
