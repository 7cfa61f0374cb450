#!/usr/bin/env bash
# What a crates.io user does, from this workspace's packages and not from
# its paths:
#
#   1. `cargo package` of every publishable package, each verified (built
#      from its .crate) against a temporary local registry that holds the
#      others;
#   2. the packages unpacked, and patched in for crates.io under their own
#      names (every other crate comes from crates.io at its locked version);
#   3. `cargo install` of the packaged wasmbake-cli (its build script builds
#      the static runner from the packaged runner's sources and lock file),
#      then the installed `wasmbake exe --static` on hello-c;
#   4. a fresh crate of a user's, with `include_module!` and the `wasi`
#      feature, built and run.
#
# Usage: scripts/from-packages.sh [--package-only] [WORK_DIR]   (default: a
# temporary directory, removed at the end). `--package-only` stops after
# step 1. CI runs all four. Needs the corpus (WASMBAKE_CORPUS, default
# ../shared/corpus) and the crates.io index (cargo package resolves against
# it).
#
# Everything builds into this workspace's target directory in the dev
# profile, so that the Wasmtime and Cranelift builds of the verification (and
# of CI's static step, for the runner) are reused: after them, steps 2 to 4
# build only this workspace's crates (docs/src/benchmarks.md, "From its
# packages"). A package carries no profile (only a workspace root does), so
# the workspace's dev-profile settings are given as configuration:
# `--config` for `cargo package`, and $work/.cargo/config.toml for every
# cargo under $work (the runner's build inside wasmbake-cli's build script
# included).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
corpus=$(cd "${WASMBAKE_CORPUS:-../shared/corpus}" && pwd)
[ -f "$corpus/hello-c.wasm" ] || { echo "from-packages: $corpus/hello-c.wasm is missing" >&2; exit 1; }
package_only=false
if [ "${1:-}" = "--package-only" ]; then
  package_only=true
  shift
fi
work=${1:-}
if [ -z "$work" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
# The workspace's dev profile (keep it the same as Cargo.toml's).
profile='[profile.dev]
debug = "line-tables-only"
[profile.dev.build-override]
opt-level = 3'
printf '%s\n' "$profile" >"$work/profile.toml"
packages=(wasmbake wasmbake-runtime wasmbake-macros wasmbake-compiler wasmbake-build wasmbake-cli wasmbake-runner)
version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "wasmbake"))')

echo "from-packages: cargo package (the publishable packages, each verified)"
rm -f "$target"/package/*.crate
# Cargo verifies each package against a temporary local registry at a fixed
# path under the target directory, and unpacks that registry's crates into
# $CARGO_HOME/registry/src/-<hash of the path>/. It unpacks a crate only if
# no directory of that name and version is there yet, so on a machine that
# packaged before, the next verification would build the *previous* run's
# sources of the sibling packages. Only local registries' unpack directories
# ("-<hash>") are cleared, and only this workspace's packages in them.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
for p in "${packages[@]}"; do
  rm -rf "$cargo_home"/registry/src/-*/"$p-$version"
done
cargo --config "$work/profile.toml" package --locked --target-dir "$target" "${packages[@]/#/--package=}"
for p in "${packages[@]}"; do
  listing=$(tar -tzf "$target/package/$p-$version.crate")
  for file in Cargo.toml Cargo.toml.orig LICENSE README.md; do
    grep -qx "$p-$version/$file" <<<"$listing" || { echo "from-packages: the $p package lacks $file" >&2; exit 1; }
  done
done
echo "from-packages: ${#packages[@]} packages, each with its manifest, LICENSE and README.md"
if $package_only; then
  exit 0
fi

echo "from-packages: the packages unpacked, in place of crates.io for their own names ($work/packages)"
# Not a directory source standing in for all of crates.io: Cargo fingerprints
# a registry crate by the path of its sources, so crates vendored elsewhere
# would all be built again (Wasmtime and Cranelift for every feature set).
# Patching only this workspace's names keeps every other crate at its
# registry path, where the verification above built it.
rm -rf "$work/packages"
mkdir -p "$work/packages" "$work/.cargo"
{
  echo "[patch.crates-io]"
  for p in "${packages[@]}"; do
    tar -xzf "$target/package/$p-$version.crate" -C "$work/packages"
    echo "$p = { path = \"$work/packages/$p-$version\" }"
  done
  echo
  printf '%s\n' "$profile"
} >"$work/.cargo/config.toml"
# The packaged lock files name the siblings as crates.io packages; with the
# patch in, they are settled once (every other version kept) so that the
# builds below can be --locked, as a user's install is.
for p in wasmbake-cli wasmbake-runner; do
  (cd "$work/packages/$p-$version" && cargo update --workspace --offline --quiet)
done

# What hello-c prints for `a b`, from the installed tool's output and the user's crate alike.
hello_c_says="hello from wasi, fib(25)=75025, argc=3"

echo "from-packages: cargo install wasmbake-cli (dev profile, with its static runner)"
# The dev profile keeps to the builds above; WASMBAKE_RUNNERS=static asks a
# dev build for one of the runners a release install embeds (the static one:
# CI's static step built its dependencies). The runner's own build, inside
# wasmbake-cli's build script, runs under $work and reads the configuration
# there; `cargo install` reads no configuration of the current directory,
# as a user's reads only $CARGO_HOME's, so the file is named.
WASMBAKE_RUNNERS=static cargo install --config "$work/.cargo/config.toml" --locked --debug --offline \
  --target-dir "$target" --root "$work/install" --path "$work/packages/wasmbake-cli-$version"
wasmbake="$work/install/bin/wasmbake"
"$wasmbake" exe --static "$corpus/hello-c.wasm" -o "$work/hello-c"
# (grep -c reads all of readelf's output: -q could end the pipe early.)
interp=$(readelf -l "$work/hello-c" | grep -c INTERP || true)
[ "$interp" = 0 ] || { echo "from-packages: the exe output has a program interpreter (not static)" >&2; exit 1; }
out=$("$work/hello-c" a b)
[ "$out" = "$hello_c_says" ] || { echo "from-packages: the exe output printed: $out" >&2; exit 1; }
echo "from-packages: the installed wasmbake exe made hello-c: $out"

echo "from-packages: a user's crate with include_module! and the wasi feature"
consumer="$work/consumer"
rm -rf "$consumer"
mkdir -p "$consumer/src" "$consumer/plugins"
cp "$corpus/hello-c.wasm" "$consumer/plugins/"
cat >"$consumer/Cargo.toml" <<EOF
[package]
name = "consumer"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
wasmbake = { version = "=$version", features = ["wasi"] }

# What the README's "Use it" asks of every user.
[profile.dev.build-override]
opt-level = 3
[profile.release.build-override]
opt-level = 3
EOF
cat >"$consumer/src/main.rs" <<'EOF'
static HELLO: wasmbake::Embedded = wasmbake::include_module!("plugins/hello-c.wasm");

fn main() -> wasmbake::wasmtime::Result<()> {
    let output = HELLO.command().args(["a", "b"]).output()?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    std::process::exit(output.status.code());
}
EOF
# Its lock file starts from this workspace's, as a user's would be at the
# versions of the day, so that the crates built above are the ones it uses.
cp "$root/Cargo.lock" "$consumer/Cargo.lock"
(cd "$consumer" && cargo update --workspace --offline --quiet)
out=$(cd "$consumer" && cargo run --locked --offline --quiet --target-dir "$target")
[ "$out" = "$hello_c_says" ] || { echo "from-packages: the consumer printed: $out" >&2; exit 1; }
echo "from-packages: the consumer crate ran its baked plugin: $out"
