#!/usr/bin/env bash
# Regenerates libs/contracts/src/gen from proto/ with ts-proto (for @grpc/grpc-js).
# Generated files are committed and never edited by hand; run `make proto` after changing a .proto.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v protoc >/dev/null 2>&1; then
  echo "protoc not found: installing Debian's protobuf-compiler" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends protobuf-compiler >/dev/null
fi
out="$root/libs/contracts/src/gen"
rm -rf "$out"; mkdir -p "$out"
protoc \
  --plugin="protoc-gen-ts_proto=$root/node_modules/.bin/protoc-gen-ts_proto" \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,env=node,esModuleInterop=true,forceLong=number,useOptionals=none,oneof=unions-value,useDate=false,importSuffix=.js \
  -I "$root/proto" \
  $(cd "$root/proto" && find commucat -name "*.proto" | sort | sed "s|^|$root/proto/|")
node "$root/scripts/contracts-index.js"
echo "generated $(find "$out" -name '*.ts' | wc -l) files in libs/contracts/src/gen"
