#!/usr/bin/env bash
# Two clean release builds of the examples, in fresh target directories at
# different absolute paths with different WASMBAKE_CACHE_DIRs, compared:
# every baked artifact and name table must be bit-identical (the script
# fails otherwise); for the final binaries it prints which ELF sections
# differ, if any (README, "Reliability"). About two full builds of time.
#
#   scripts/reproducible.sh [work dir, default /tmp/wasmbake-reproducible]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/wasmbake-reproducible}
rm -rf "$work"
# Both builds from one frozen copy of HEAD (the plugins' paths in the
# corpus are relative: ../shared beside it).
root="$work/src/wasmbake"
mkdir -p "$root"
git -C "$repo" archive HEAD | tar -x -C "$root"
ln -s "$(cd "$repo/../shared" && pwd)" "$work/src/shared"
builds=("$work/first/target" "$work/second/somewhere/else/target")
for i in 0 1; do
  target=${builds[$i]}
  echo "== build $((i + 1)): CARGO_TARGET_DIR=$target"
  (cd "$root" && CARGO_TARGET_DIR="$target" WASMBAKE_CACHE_DIR="$target/../cache-$i" \
    cargo build --release --quiet -p wasmbake-examples -p wasmbake-example-hello --examples)
done
a=${builds[0]}/../cache-0; b=${builds[1]}/../cache-1
fail=0
count=0
for file in "$a"/*.cwasm "$a"/*.names; do
  name=$(basename "$file")
  count=$((count + 1))
  if [ ! -f "$b/$name" ]; then echo "DIFFERS: $name is not in the second cache (another key)"; fail=1; continue; fi
  cmp -s "$file" "$b/$name" || { echo "DIFFERS: $name"; fail=1; }
done
[ "$count" -gt 0 ] || { echo "no cache entries were written" >&2; exit 1; }
echo "$count artifacts and name tables compared: $([ $fail = 0 ] && echo bit-identical || echo SOME DIFFER)"
for example in hello folder toolbox; do
  x=${builds[0]}/release/examples/$example; y=${builds[1]}/release/examples/$example
  if cmp -s "$x" "$y"; then
    echo "$example: the binaries are bit-identical"
  else
    echo "$example: the binaries differ in:"
    python3 - "$x" "$y" <<'PY'
import hashlib, struct, sys
def sections(path):
    data = open(path, 'rb').read()
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3a)
    heads = [struct.unpack_from('<IIQQQQIIQQ', data, shoff + i * shentsize) for i in range(shnum)]
    strtab = heads[shstrndx]
    name = lambda off: data[strtab[4] + off:data.index(b'\0', strtab[4] + off)].decode()
    return {name(h[0]): hashlib.sha256(data[h[4]:h[4] + (h[5] if h[1] != 8 else 0)]).hexdigest() for h in heads}
a, b = sections(sys.argv[1]), sections(sys.argv[2])
for s in sorted(set(a) | set(b)):
    if a.get(s) != b.get(s):
        print('  ', s)
PY
  fi
done
exit $fail
