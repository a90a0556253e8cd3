// Compares the expanded conversions with the hardware's (F16C), for every
// f16 value and every f32 bit pattern; prints how many differ. NaNs match
// any NaN (payloads are not specified).
#include <stdint.h>
#include <stdio.h>
#include <string.h>

float tlmc_extend_f16(_Float16 h);
_Float16 tlmc_truncate_f32(float f);

static int isNaN16(uint16_t b) { return (b & 0x7c00) == 0x7c00 && (b & 0x3ff); }

int main(void) {
  long differ = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    uint16_t bits = (uint16_t)i;
    _Float16 h;
    memcpy(&h, &bits, 2);
    float want = (float)h, got = tlmc_extend_f16(h);
    uint32_t w, g;
    memcpy(&w, &want, 4);
    memcpy(&g, &got, 4);
    if (w != g && !(want != want && got != got) && differ++ < 5)
      printf("f16 %04x: want %08x, got %08x\n", bits, w, g);
  }
  printf("f16 to f32: %ld of 65536 differ\n", differ);
  differ = 0;
  for (uint64_t i = 0; i < (1ull << 32); ++i) {
    uint32_t bits = (uint32_t)i;
    float f;
    memcpy(&f, &bits, 4);
    _Float16 want = (_Float16)f, got = tlmc_truncate_f32(f);
    uint16_t w, g;
    memcpy(&w, &want, 2);
    memcpy(&g, &got, 2);
    if (w != g && !(isNaN16(w) && isNaN16(g)) && differ++ < 5)
      printf("f32 %08x: want %04x, got %04x\n", bits, w, g);
  }
  printf("f32 to f16: %ld of 4294967296 differ\n", differ);
  return 0;
}
