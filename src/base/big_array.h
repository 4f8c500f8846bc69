// BigArray<T>: a std::vector of trivial values for large arrays that are written before they
// are read (index words, row buffers), with an allocator that makes fresh memory cheap:
//  - resize(n) leaves new elements uninitialized instead of zeroing them, so the caller's
//    first write is the only pass over fresh memory (resize(n, value) still fills);
//  - allocations of kBigArrayHugeBytes or more are aligned to that size and advised as
//    transparent huge pages (madvise MADV_HUGEPAGE), so that tens of MiB cost a few page
//    faults instead of one per 4 KiB. The advice is a hint: where the kernel ignores it, the
//    memory is ordinary.
//
// Thread safety: the allocator is stateless; a BigArray is as thread-safe as std::vector.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace mixtera {

inline constexpr size_t kBigArrayHugeBytes = size_t{2} << 20;

template <typename T>
struct BigArrayAllocator {
  static_assert(std::is_trivially_copyable_v<T>, "BigArray holds trivial values only");
  using value_type = T;

  BigArrayAllocator() = default;
  template <typename U>
  BigArrayAllocator(const BigArrayAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    void* p;
    if (bytes >= kBigArrayHugeBytes) {
      const size_t rounded = (bytes + kBigArrayHugeBytes - 1) & ~(kBigArrayHugeBytes - 1);
      p = std::aligned_alloc(kBigArrayHugeBytes, rounded);
      if (p != nullptr) madvise(p, rounded, MADV_HUGEPAGE);  // a hint; failure is harmless
    } else {
      p = std::malloc(bytes == 0 ? 1 : bytes);
    }
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { std::free(p); }

  // Value-less construction (resize(n)) default-initializes: no zeroing.
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) {
      ::new (static_cast<void*>(p)) U;
    } else {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  }

  friend bool operator==(const BigArrayAllocator&, const BigArrayAllocator&) { return true; }
};

template <typename T>
using BigArray = std::vector<T, BigArrayAllocator<T>>;

}  // namespace mixtera
