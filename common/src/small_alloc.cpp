// Small-block allocator for messages and coroutine frames.
//
// Design. Each thread owns a Heap: per size class (16-byte steps up to 512
// bytes) a plain free list for its own use and an atomic stack for blocks that
// other threads free. Blocks are carved from 64 KiB spans aligned to their
// size; a span's header names its owning heap, so a free finds the owner with
// one mask. A free by the owner is a push on its plain list; a free by another
// thread joins a per-thread batch for that owner, handed over with one CAS on
// the owner's remote stack every 64 blocks (so at most 64 blocks per size
// class wait in a batch); the owner takes its stack whole when its own list
// runs dry. This suits message passing, where the sender allocates and the
// receiver, often on another core, frees.
//
// A heap outlives its thread: when the thread ends the heap is marked unused
// and the next new thread adopts it, with its free lists. Spans are never
// returned to the system while the program runs; they stay reachable from the
// global heap list, so leak checkers see no leak. Under ASan or TSan every
// block goes to operator new instead, so the sanitizers see each one (and so with
// -DOTP_PLAIN_ALLOC, for a heap profiler).
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>

#include <sys/mman.h>

#include "otp/detail/msg.hpp"
#include "otp/detail/table_alloc.hpp"

#if defined(OTP_PLAIN_ALLOC)
// Asked for (-DOTP_PLAIN_ALLOC): a heap profiler then sees every frame and message.
#elif defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OTP_PLAIN_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OTP_PLAIN_ALLOC 1
#endif
#endif

namespace otp::detail {

#ifdef OTP_PLAIN_ALLOC

void* table_alloc(std::size_t size) { return ::operator new(size); }
void table_free(void* p, std::size_t size) noexcept { ::operator delete(p, size); }

void* small_alloc(std::size_t size) { return ::operator new(size); }
void small_free(void* p, std::size_t size) noexcept { ::operator delete(p, size); }

#else

namespace {

constexpr std::size_t step = 16;
constexpr std::size_t classes = 32;  // up to 512 bytes
constexpr std::size_t span_size = 64 * 1024;

struct Block {
  Block* next;
};

struct Heap;

struct alignas(64) SpanHeader {
  Heap* owner;
};

struct Heap {
  Block* local[classes] = {};
  std::atomic<Block*> remote[classes] = {};
  char* bump = nullptr;
  char* bump_end = nullptr;
  Heap* next_heap = nullptr;
  std::atomic<bool> in_use{true};
};

std::mutex heaps_m;
Heap* heaps = nullptr;  // every heap ever made; never freed

Heap* acquire_heap() {
  std::lock_guard lock(heaps_m);
  for (Heap* h = heaps; h != nullptr; h = h->next_heap) {
    bool expected = false;
    if (h->in_use.compare_exchange_strong(expected, true)) return h;
  }
  Heap* h = new Heap;
  h->next_heap = heaps;
  heaps = h;
  return h;
}

struct HeapHolder {
  Heap* heap = nullptr;
  ~HeapHolder() {
    if (heap != nullptr) heap->in_use.store(false, std::memory_order_release);
    heap = nullptr;  // frees after this point go through the remote stacks
  }
};

thread_local HeapHolder holder;

// Blocks freed here for another heap are chained per size class and handed
// over in batches: one CAS per batch instead of one per block.
constexpr unsigned batch = 64;
struct Pending {
  Heap* owner = nullptr;
  Block* head = nullptr;
  Block* tail = nullptr;
  unsigned count = 0;
};

void hand_over(Pending& p, std::size_t c) noexcept {
  if (p.head == nullptr) return;
  std::atomic<Block*>& stack = p.owner->remote[c];
  Block* old = stack.load(std::memory_order_relaxed);
  do {
    p.tail->next = old;
  } while (!stack.compare_exchange_weak(old, p.head, std::memory_order_release,
                                        std::memory_order_relaxed));
  p = Pending{};
}

struct PendingSet {
  Pending by_class[classes];
  ~PendingSet() {
    for (std::size_t c = 0; c < classes; ++c) hand_over(by_class[c], c);
  }
};

thread_local PendingSet pending;

Heap* my_heap() {
  Heap* h = holder.heap;
  if (h == nullptr) h = holder.heap = acquire_heap();
  return h;
}

void* carve(Heap* h, std::size_t bytes) {
  if (h->bump == nullptr || static_cast<std::size_t>(h->bump_end - h->bump) < bytes) {
    void* mem = std::aligned_alloc(span_size, span_size);
    if (mem == nullptr) throw std::bad_alloc();
    auto* header = static_cast<SpanHeader*>(mem);
    header->owner = h;
    h->bump = static_cast<char*>(mem) + sizeof(SpanHeader);
    h->bump_end = static_cast<char*>(mem) + span_size;
  }
  void* p = h->bump;
  h->bump += bytes;
  return p;
}

}  // namespace

// Large tables straight from the system, and back to it when they are freed: a
// growing table frees its old array, and from the heap that memory would stay
// in the resident set (or not, as the heap's mmap threshold happens to stand).
constexpr std::size_t own_map_from = 64 * 1024;

void* table_alloc(std::size_t size) {
  if (size < own_map_from) return ::operator new(size);
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void table_free(void* p, std::size_t size) noexcept {
  if (size < own_map_from) {
    ::operator delete(p, size);
  } else {
    ::munmap(p, size);
  }
}

void* small_alloc(std::size_t size) {
  std::size_t c = (size + step - 1) / step;
  if (c == 0) c = 1;
  if (c > classes) return ::operator new(size);
  --c;
  Heap* h = my_heap();
  Block* b = h->local[c];
  if (b == nullptr) {
    b = h->remote[c].exchange(nullptr, std::memory_order_acquire);
    if (b == nullptr) return carve(h, (c + 1) * step);
  }
  h->local[c] = b->next;
  return b;
}

void small_free(void* p, std::size_t size) noexcept {
  std::size_t c = (size + step - 1) / step;
  if (c == 0) c = 1;
  if (c > classes) {
    ::operator delete(p);  // unsized: valid for any ::operator new(size) block
    return;
  }
  --c;
  auto* b = static_cast<Block*>(p);
  Heap* owner =
      reinterpret_cast<SpanHeader*>(reinterpret_cast<std::uintptr_t>(p) & ~(span_size - 1))->owner;
  Heap* h = holder.heap;
  if (owner == h) {
    b->next = h->local[c];
    h->local[c] = b;
    return;
  }
  Pending& batch_of = pending.by_class[c];
  if (batch_of.owner != owner) {
    hand_over(batch_of, c);
    batch_of.owner = owner;
  }
  b->next = batch_of.head;
  batch_of.head = b;
  if (batch_of.tail == nullptr) batch_of.tail = b;
  if (++batch_of.count >= batch) hand_over(batch_of, c);
}

#endif

}  // namespace otp::detail
