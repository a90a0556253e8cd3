//===- Allocate.h - objects on malloc, so the runtime needs no libstdc++ -===//
//
// `new (std::nothrow)` and `delete` are libstdc++ symbols; a device links the
// runtime with a C toolchain and -lpthread -lm alone. These construct and
// destroy with malloc/free and placement new (inline, from <new>).
//
//===----------------------------------------------------------------------===//

#ifndef TLMRT_ALLOCATE_H
#define TLMRT_ALLOCATE_H

#include <cstdlib>
#include <new>
#include <utility>

namespace tlmrt {

/// A new T on the heap, or null when out of memory (aligned_alloc for a
/// type aligned beyond malloc's, such as one holding cache lines).
template <typename T, typename... Args> T *create(Args &&...args) {
  constexpr size_t align = alignof(T);
  void *memory =
      align <= alignof(std::max_align_t)
          ? std::malloc(sizeof(T))
          : std::aligned_alloc(align, (sizeof(T) + align - 1) / align * align);
  return memory ? new (memory) T{std::forward<Args>(args)...} : nullptr;
}

/// Destroys and frees what create() made (null is fine).
template <typename T> void destroy(T *object) {
  if (!object)
    return;
  object->~T();
  std::free(object);
}

} // namespace tlmrt

#endif // TLMRT_ALLOCATE_H
