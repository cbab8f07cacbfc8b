#!/usr/bin/env bash
# Builds and runs the Rust interop harness (tests/interop/harness, binary commucat-interop).
#
#   tests/interop/run.sh vectors              build, then write tests/interop/out/vectors.json
#   tests/interop/run.sh client ARGS...       build, then run `commucat-interop client ARGS...`
#   tests/interop/run.sh verify-zkp ARGS...   build, then run `commucat-interop verify-zkp ARGS...`
#   tests/interop/run.sh build                build only
#   tests/interop/run.sh path                 build, then print the binary's path
#
# Works on a fresh machine that has cargo: the build output goes to $CARGO_TARGET_DIR
# (default ~/.cache/commucat/cargo-target, shared so rebuilds are fast), and the published
# 1.0.41 crates are fetched by cargo and linked into harness/vendor41/ first (see
# harness/Cargo.toml for why they are a path dependency).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
harness="$here/harness"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/commucat/cargo-target}"
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
binary="$CARGO_TARGET_DIR/debug/commucat-interop"
crates_41_version="1.0.41"

# Lets cargo download commucat-proto/commucat-crypto 1.0.41 (an auxiliary manifest that
# depends on exactly those) and links their unpacked sources into harness/vendor41/.
link_crates_41() {
  local vendor="$harness/vendor41"
  if [ -f "$vendor/commucat-proto/Cargo.toml" ] && [ -f "$vendor/commucat-crypto/Cargo.toml" ]; then
    return 0
  fi
  local fetch="$vendor/.fetch"
  mkdir -p "$fetch/src"
  cat >"$fetch/Cargo.toml" <<TOML
[package]
name = "commucat-interop-fetch-41"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
commucat-proto = "=$crates_41_version"
commucat-crypto = "=$crates_41_version"
TOML
  : >"$fetch/src/lib.rs"
  local host metadata crate manifest
  host="$(rustc -vV | sed -n 's/^host: //p')"
  metadata="$(cargo metadata --quiet --format-version 1 --filter-platform "$host" --manifest-path "$fetch/Cargo.toml")"
  for crate in commucat-proto commucat-crypto; do
    manifest="$(printf '%s' "$metadata" | grep -o "\"manifest_path\":\"[^\"]*/$crate-$crates_41_version/Cargo.toml\"" | head -n 1 | cut -d'"' -f4)"
    if [ -z "$manifest" ] || [ ! -f "$manifest" ]; then
      echo "run.sh: cargo did not provide $crate $crates_41_version" >&2
      exit 1
    fi
    ln -sfn "$(dirname "$manifest")" "$vendor/$crate"
  done
}

build() {
  link_crates_41
  cargo build --quiet --locked --manifest-path "$harness/Cargo.toml"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  vectors)
    build
    mkdir -p "$here/out"
    exec "$binary" vectors --out "$here/out/vectors.json" "$@"
    ;;
  client | verify-zkp)
    build
    exec "$binary" "$command" "$@"
    ;;
  build)
    build
    ;;
  path)
    build
    echo "$binary"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
