//===- TokenTiles.h - walking a product's tokens in register tiles -*- C++ -*-===//
//
// Every micro-kernel keeps one accumulator per (row, token) of its tile, so
// the token count of a tile is a compile-time constant: tiles of 4, then one
// tile of the 3, 2 or 1 left.
//
//===----------------------------------------------------------------------===//

#ifndef TLMRT_TOKENTILES_H
#define TLMRT_TOKENTILES_H

#include <stdint.h>
#include <type_traits>

namespace tlmrt {

constexpr int kTokenTile = 4;

/// Calls `tile(std::integral_constant<int, T>{}, first)` for tiles of T
/// tokens starting at `first`, covering [0, tokens).
template <typename Tile> inline void forEachTokenTile(int64_t tokens, Tile tile) {
  int64_t t = 0;
  for (; t + kTokenTile <= tokens; t += kTokenTile)
    tile(std::integral_constant<int, kTokenTile>{}, t);
  switch (tokens - t) {
  case 3:
    tile(std::integral_constant<int, 3>{}, t);
    break;
  case 2:
    tile(std::integral_constant<int, 2>{}, t);
    break;
  case 1:
    tile(std::integral_constant<int, 1>{}, t);
    break;
  default:
    break;
  }
}

} // namespace tlmrt

#endif // TLMRT_TOKENTILES_H
