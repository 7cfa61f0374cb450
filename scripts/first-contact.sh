#!/usr/bin/env bash
# What a newcomer waits for: the README's two commands on a fresh clone of
# HEAD (empty target/, registry already cached), and, as the yardstick, a
# minimal program that depends on `wasmtime = "=48.0.8"` (default features)
# and compiles a module at run time, built the same way (`cargo run`,
# empty target/). Prints one table and writes it to
# benches/report/FIRST-CONTACT.md, which the benchmark report carries into
# BENCHMARKS.md ("First contact"); the README quotes it. About half an hour
# on a 2-core machine.
#
#   scripts/first-contact.sh [work dir, default /tmp/wasmbake-first-contact]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/wasmbake-first-contact}
rm -rf "$work"
mkdir -p "$work"
# The clone sits beside a link to the shared corpus, as the repository does.
git clone --quiet "$repo" "$work/wasmbake"
[ -e "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
cargo fetch --quiet --manifest-path "$work/wasmbake/Cargo.toml"

seconds() { local start=$(date +%s.%N); "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; return 1; }; echo "$(date +%s.%N) - $start" | bc; }

# The yardstick: Wasmtime's default features, a module compiled at run time.
mkdir -p "$work/minimal/src"
cat >"$work/minimal/Cargo.toml" <<'TOML'
[package]
name = "minimal-wasmtime"
version = "0.1.0"
edition = "2024"

[dependencies]
wasmtime = "=48.0.8"

[workspace]
TOML
cat >"$work/minimal/src/main.rs" <<'RS'
fn main() -> wasmtime::Result<()> {
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, r#"(module (func (export "answer") (result i32) i32.const 42))"#)?;
    let mut store = wasmtime::Store::new(&engine, ());
    let instance = wasmtime::Instance::new(&mut store, &module, &[])?;
    let answer = instance.get_typed_func::<(), i32>(&mut store, "answer")?;
    println!("{}", answer.call(&mut store, ())?);
    Ok(())
}
RS
# Its lock file from the same registry versions wasmbake's lock has.
cp "$work/wasmbake/Cargo.lock" "$work/minimal/Cargo.lock"
(cd "$work/minimal" && cargo fetch --quiet)

# Where a build's time goes: the longest units of its `--timings` report.
slowest() {
  python3 - "$1" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S).group(1))
units.sort(key=lambda u: -u["duration"])
print(", ".join(f"{u['name']}{u['target'].strip() and ' (' + u['target'].strip() + ')'} {u['duration']:.0f} s" for u in units[:5]))
PY
}

minimal=$(cd "$work/minimal" && seconds cargo run --timings)
minimal_slowest=$(slowest "$work/minimal/target/cargo-timings/cargo-timing.html")
hello=$(cd "$work/wasmbake" && seconds cargo run --example hello --timings)
hello_slowest=$(slowest "$work/wasmbake/target/cargo-timings/cargo-timing.html")
grep -q "Hello from a baked plugin" "$work/last.log" || { echo "the example did not run" >&2; cat "$work/last.log" >&2; exit 1; }
tests=$(cd "$work/wasmbake" && seconds cargo test --workspace --timings)
tests_slowest=$(slowest "$work/wasmbake/target/cargo-timings/cargo-timing.html")
summary=$(grep -E "^test result" "$work/last.log" | awk '{p+=$4; f+=$6; i+=$8} END {print p " passed, " f " failed, " i " ignored"}')

ratio=$(echo "scale=2; $hello / $minimal" | bc)
table=$(
  printf 'Measured by `scripts/first-contact.sh` (%s, %s cores; commit %s).\n\n' "$(date -u +%F)" "$(nproc)" "$(git -C "$work/wasmbake" rev-parse --short HEAD)"
  printf '| command (fresh clone, empty target/, registry cached) | wall time | target |\n|---|---|---|\n'
  printf '| `cargo run --example hello` | %.0f s (%s× the yardstick) | ≤ 1.2× the yardstick |\n' "$hello" "$ratio"
  printf '| yardstick: `wasmtime = "=48.0.8"`, a module compiled at run time, `cargo run` | %.0f s | |\n' "$minimal"
  printf '| `cargo test --workspace`, after the first command (%s) | %.0f s | ≤ 600 s |\n' "$summary" "$tests"
  printf '\nLongest units (two cores: units overlap): the example, %s; the tests, %s; the yardstick, %s.\n' "$hello_slowest" "$tests_slowest" "$minimal_slowest"
)
printf '%s\n' "$table"
printf '%s\n' "$table" >"$repo/benches/report/FIRST-CONTACT.md"
