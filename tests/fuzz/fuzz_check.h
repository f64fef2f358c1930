#pragma once
// Shared by the fuzzers: a property check that aborts (so libFuzzer keeps
// the input), and the JSON writer's UTF-8 repair written independently, to
// state what a string must read back as.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

namespace sippacer::fuzz {

// Bytes of the well-formed UTF-8 sequence at s[i] (RFC 3629 table 3-7), or 0.
inline size_t Utf8Length(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if (c == 0xED) {
    len = 3;
    hi = 0x9F;
  } else if (c >= 0xE1 && c <= 0xEF)
    len = 3;
  else if (c == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (c == 0xF4) {
    len = 4;
    hi = 0x8F;
  } else if (c >= 0xF1 && c <= 0xF3)
    len = 4;
  else
    return 0;
  if (i + len > s.size() || b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return len;
}

// `s` with each byte that starts no well-formed sequence replaced by U+FFFD.
inline std::string Utf8Repaired(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8Length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace sippacer::fuzz
