// The allocator of the hash tables' slot arrays (Registry, ProcessGroups):
// arrays of 64 KiB and more are mapped from the system and unmapped when
// freed, so that the arrays a table leaves behind as it grows leave the
// resident set. Not part of the public API.
#pragma once

#include <cstddef>

namespace otp::detail {

void* table_alloc(std::size_t size);
void table_free(void* p, std::size_t size) noexcept;

template <class T>
struct TableAllocator {
  using value_type = T;
  TableAllocator() = default;
  template <class U>
  TableAllocator(const TableAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return static_cast<T*>(table_alloc(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { table_free(p, n * sizeof(T)); }
  friend bool operator==(const TableAllocator&, const TableAllocator&) { return true; }
};

}  // namespace otp::detail
