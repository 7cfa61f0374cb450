#!/usr/bin/env bash
# Makes target/upstream/wasmtime-48.0.8: the registry's Wasmtime 48.0.8 with
# memory-image-file.patch applied, for the measurement crate beside this
# script (docs/upstream/measure). Run from anywhere.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wasmtime-48.0.8 | head -n 1)
[ -d "$src" ] || { echo "wasmtime 48.0.8 is not in the cargo registry: build wasmbake first" >&2; exit 1; }
dest="$root/target/upstream/wasmtime-48.0.8"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -r "$src" "$dest"
patch -d "$dest" -p1 < "$here/memory-image-file.patch"
# The measurement crate resolves the same versions as the workspace.
cp "$root/Cargo.lock" "$here/measure/Cargo.lock"
echo "patched Wasmtime in $dest"
