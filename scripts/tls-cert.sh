#!/usr/bin/env bash
# Makes a self-signed TLS certificate for local use: <dir>/gateway.crt and <dir>/gateway.key.
# EC P-256 (the curve every TLS client supports), SAN DNS:localhost + IP:127.0.0.1, 825 days
# (the longest validity Apple clients accept for a server certificate).
# Idempotent: does nothing if both files exist.
#
# Usage: scripts/tls-cert.sh <dir>
set -euo pipefail

die() {
  printf 'tls-cert: error: %s\n' "$*" >&2
  exit 1
}

if (($# != 1)) || [[ -z $1 ]]; then
  printf 'usage: %s <dir>\n' "$0" >&2
  exit 2
fi
command -v openssl >/dev/null 2>&1 || die "openssl not found; run scripts/stack.sh install"

cert_dir=$1
cert_file=$cert_dir/gateway.crt
key_file=$cert_dir/gateway.key

if [[ -e $cert_file && -e $key_file ]]; then
  printf 'tls-cert: %s and %s already exist; keeping them\n' "$cert_file" "$key_file"
  exit 0
fi
# A lone half of a pair is suspicious (someone's real key?); never overwrite it.
if [[ -e $cert_file || -e $key_file ]]; then
  die "only one of $cert_file / $key_file exists; remove it (or supply the other) and rerun"
fi

mkdir -p -- "$cert_dir"
# Write next to the targets and rename at the end, so an interrupted run leaves no half pair.
umask 077
work_dir=$(mktemp -d "$cert_dir/.tls-cert.XXXXXX")
trap 'rm -rf -- "$work_dir"' EXIT

openssl_log=$work_dir/openssl.log
if ! openssl req -x509 -new -sha256 -days 825 -nodes \
  -newkey ec -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve \
  -keyout "$work_dir/gateway.key" -out "$work_dir/gateway.crt" \
  -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=serverAuth" >"$openssl_log" 2>&1; then
  cat -- "$openssl_log" >&2
  die "openssl could not create the certificate"
fi

chmod 0600 -- "$work_dir/gateway.key"
chmod 0644 -- "$work_dir/gateway.crt"
mv -- "$work_dir/gateway.key" "$key_file"
mv -- "$work_dir/gateway.crt" "$cert_file"
printf 'tls-cert: wrote %s and %s (EC P-256, localhost/127.0.0.1, 825 days)\n' "$cert_file" "$key_file"
