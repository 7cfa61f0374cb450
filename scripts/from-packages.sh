#!/usr/bin/env bash
# What a crates.io user does, from this workspace's packages and not from
# its paths:
#
#   1. `cargo package` of every publishable package, each verified (built
#      from its .crate) against a temporary local registry that holds the
#      others;
#   2. a directory source that stands in for crates.io: the lock file's
#      registry dependencies (`cargo vendor`) and the packages, unpacked;
#   3. `cargo install wasmbake-cli` from it (its build script builds the
#      runner from the packaged runner's sources and lock file), then the
#      installed `wasmbake exe` on hello-c;
#   4. a fresh crate of a user's, with `include_module!` and the `wasi`
#      feature, built and run.
#
# Usage: scripts/from-packages.sh [--package-only] [WORK_DIR]   (default: a
# temporary directory, removed at the end). `--package-only` stops after
# step 1: what CI runs, as steps 2 to 4 take about 20 min more (benchmarks.md,
# "From its packages"). Needs the corpus (WASMBAKE_CORPUS, default
# ../shared/corpus) and the crates.io index (cargo package resolves against
# it).
#
# Everything builds into this workspace's target directory in the dev
# profile: Wasmtime and Cranelift are built once for the workspace's own
# builds and reused here, as long as the profile is the same. A package
# carries no profile (only a workspace root does), so the workspace's
# dev-profile settings are given as configuration: `--config` for `cargo
# package`, and $work/.cargo/config.toml for every cargo under $work (the
# runner's build inside wasmbake-cli's build script included).
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

echo "from-packages: a directory source in place of crates.io ($work/registry)"
rm -rf "$work/registry"
# Only registry packages are vendored: this workspace's own come from their .crate files.
cargo vendor --locked --versioned-dirs --quiet "$work/registry" >/dev/null
for p in "${packages[@]}"; do
  crate="$target/package/$p-$version.crate"
  tar -xzf "$crate" -C "$work/registry"
  # A directory source's checksum file: the .crate's digest is what lock
  # files record; no per-file digests (the files are the package's own).
  printf '{"files":{},"package":"%s"}\n' "$(sha256sum "$crate" | cut -d' ' -f1)" \
    >"$work/registry/$p-$version/.cargo-checksum.json"
done
mkdir -p "$work/.cargo"
cat >"$work/.cargo/config.toml" <<EOF
[source.crates-io]
replace-with = "packages"
[source.packages]
directory = "$work/registry"

$profile
EOF

echo "from-packages: cargo install wasmbake-cli (dev profile, with the dynamic runner)"
# The dev profile keeps to the Wasmtime build above; WASMBAKE_RUNNERS=host
# asks a dev build for the runner a release install embeds by default.
# (`cargo install` reads no configuration of the current directory, as a
# user's install reads only $CARGO_HOME's: the file is named.)
(cd "$work" && WASMBAKE_RUNNERS=host cargo install --config "$work/.cargo/config.toml" --locked --debug --offline \
  --target-dir "$target" --root "$work/install" wasmbake-cli --version "=$version")
wasmbake="$work/install/bin/wasmbake"
"$wasmbake" exe "$corpus/hello-c.wasm" -o "$work/hello-c"
out=$("$work/hello-c" a b)
[ "$out" = "hello from wasi, fib(25)=75025, argc=3" ] || { echo "from-packages: the exe output printed: $out" >&2; exit 1; }
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
out=$(cd "$consumer" && cargo run --offline --quiet --target-dir "$target")
[ "$out" = "hello from wasi, fib(25)=75025, argc=3" ] || { echo "from-packages: the consumer printed: $out" >&2; exit 1; }
echo "from-packages: the consumer crate ran its baked plugin: $out"
