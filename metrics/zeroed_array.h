#pragma once
// ZeroedArray<T>: a large array whose every element starts as all-zero
// bytes, taken from calloc. Fresh pages from the kernel are already zero and
// calloc does not write them, so a page costs memory only once an element on
// it is written: an index sized for a million numbers costs little while a
// few thousand are tracked.

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

namespace sippacer::metrics {

// T must be trivially destructible and valid as all-zero bytes (atomics of
// integers, structs of them whose zero state is "empty").
template <typename T>
class ZeroedArray {
  static_assert(std::is_trivially_destructible_v<T>, "elements are never destroyed");

 public:
  explicit ZeroedArray(size_t n) : data_(static_cast<T*>(std::calloc(n, sizeof(T)))) {
    if (data_ == nullptr && n > 0) throw std::bad_alloc();
  }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
};

}  // namespace sippacer::metrics
