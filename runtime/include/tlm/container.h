/*===- container.h - the fixed header of a .tlmw container ----------*- C -*-===*
 *
 * Shared by the container writer (codegen) and the runtime's reader. The
 * rest of the container is described in runtime/schema/tlmw.fbs.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TLM_CONTAINER_H
#define TLM_CONTAINER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The first eight bytes of every container. */
#define TLM_CONTAINER_MAGIC "TLMW\r\n\x1a\n"

/** The 64-byte header at offset 0 (little-endian). */
typedef struct tlm_container_header {
  char magic[8];
  uint32_t version; /* 1 */
  uint32_t reserved;
  uint64_t flatbuffer_offset; /* 64 */
  uint64_t flatbuffer_bytes;
  uint64_t weights_offset; /* 64-byte aligned */
  uint64_t weights_bytes;
  uint64_t fingerprint; /* equals the FlatBuffer's and the object's */
  uint64_t reserved2;
} tlm_container_header;

#ifdef __cplusplus
} /* extern "C" */

namespace tlmc {
using ContainerHeader = tlm_container_header;
constexpr char kContainerMagic[] = TLM_CONTAINER_MAGIC;
static_assert(sizeof(ContainerHeader) == 64, "the header is 64 bytes");
} // namespace tlmc
#endif

#endif /* TLM_CONTAINER_H */
