#pragma once
// CdrFile: JSON lines appended to --cdr_file (writer thread only).

#include <string>

#include "absl/status/status.h"

namespace sippacer::proxy {

class CdrFile {
 public:
  explicit CdrFile(std::string path) : path_(std::move(path)) {}
  ~CdrFile();
  absl::Status Open();  // O_APPEND|O_CREAT; also how SIGHUP reopens
  void Append(const std::string& line) {
    buffer_ += line;
    buffer_ += '\n';
  }
  absl::Status Flush();  // one write(2) per flush
  bool has_pending() const { return !buffer_.empty(); }

 private:
  std::string path_;
  std::string buffer_;
  int fd_ = -1;
};

}  // namespace sippacer::proxy
