#!/usr/bin/env bash
#===- test/fuzz/corpus.sh - a kept fuzz corpus as one archive ---------------===#
#
#   test/fuzz/corpus.sh unpack ARCHIVE DIR   # DIR gets the inputs (none if
#                                            # ARCHIVE does not exist yet)
#   test/fuzz/corpus.sh pack ARCHIVE DIR     # ARCHIVE holds DIR's inputs
#
# Mutations of one model file are nearly identical, so xz keeps hundreds of
# them in tens of KiB. Packed reproducibly (sorted, no times, no owners):
# an unchanged corpus gives the same bytes.
#===----------------------------------------------------------------------===#
set -euo pipefail
case "${1:-}" in
  unpack)
    mkdir -p "$3"
    [ ! -f "$2" ] || tar -xJf "$2" -C "$3" ;;
  pack)
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
      -C "$3" -cf - . | xz -9e -T1 > "$2.tmp"
    mv "$2.tmp" "$2" ;;
  *)
    echo "usage: corpus.sh pack|unpack ARCHIVE DIR" >&2; exit 2 ;;
esac
