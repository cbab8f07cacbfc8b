#!/usr/bin/env bash
# Builds every CommuCat container image with podman, from a base made here (no registry needed).
#
# Usage: scripts/images.sh [service ...]     (default: every service, the cli and the e2e image)
#
#   1. Debian bookworm (minbase) from debootstrap; the root filesystem tarball is cached under
#      $COMMUCAT_IMAGES_CACHE (default ~/.cache/commucat/images), so only the first run downloads.
#   2. `podman import` of that tarball: localhost/commucat/debian:bookworm-<hash>.
#   3. docker/base/Containerfile on top of it: Node 20 and npm (the host's own standalone Node 20
#      build, see node_source below) -> commucat/node-base:20-bookworm; + Node's headers, python3,
#      make and g++ for the build stages -> commucat/node-build-base; + ffmpeg, libopus and libvpx
#      -> commucat/node-media-base.
#   4. docker/Dockerfile once per image with --build-arg SERVICE=<name> and the local bases, from
#      one snapshot of the sources, tagged localhost/commucat/<name>:${COMMUCAT_IMAGE_TAG:-dev};
#      then a table of images and sizes. Build logs: $COMMUCAT_IMAGES_CACHE/logs/<image>.log.
#
# Every podman call uses --runtime runc (crun does not work on this host). Layers are cached by
# podman, so a second run only rebuilds what changed.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${COMMUCAT_IMAGES_CACHE:-$HOME/.cache/commucat/images}"
TAG="${COMMUCAT_IMAGE_TAG:-dev}"
SUITE=bookworm
MIRROR="${COMMUCAT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ALL_IMAGES=(gateway secrets directory presence router relay media federation cli e2e)

log() { printf 'images: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

podman_() { podman --runtime runc "$@"; }

# Docker format keeps HEALTHCHECK (the OCI image format has no field for it); the host network
# lets RUN steps reach the Debian mirror and npm without a CNI network.
build() { podman_ build --format docker --network host --layers --pull=missing "$@"; }

# podman, debootstrap and runc from Debian when missing (the way scripts/stack.sh install does).
require_tools() {
  [[ $(id -u) -eq 0 ]] || die "run as root: debootstrap and rootful podman need it"
  local -a missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v runc >/dev/null || missing+=(runc)
  [[ ${#missing[@]} -eq 0 ]] && return
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed"
}

# The minbase root filesystem, made once. Documentation, manual pages and translations are left
# out (and dpkg is told to leave them out of later installs), as in Debian's own slim images.
debian_rootfs() {
  local tarball="$CACHE/debian-$SUITE-minbase-slim.tar" work rootfs
  if [[ -s $tarball ]]; then
    echo "$tarball"
    return
  fi
  mkdir -p "$CACHE"
  work=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  rootfs="$work/rootfs"
  log "debootstrap $SUITE (minbase) from $MIRROR"
  local started=$SECONDS
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/commucat-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
  cat >"$rootfs/etc/apt/apt.conf.d/commucat-slim" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
CFG
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs/usr/share/man/"* "$rootfs/usr/share/info/"* "$rootfs/usr/share/locale/"* \
    "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/cache/apt/"*.bin "$rootfs/var/lib/apt/lists/"* \
    "$rootfs/var/log/"*.log "$rootfs/var/log/apt/"*
  tar --numeric-owner --xattrs -C "$rootfs" -cf "$work/rootfs.tar" .
  mv "$work/rootfs.tar" "$tarball"
  rm -rf "$work"
  log "debootstrap done in $((SECONDS - started)) s: $tarball ($(du -h "$tarball" | cut -f1))"
  echo "$tarball"
}

# The imported Debian image, named after the tarball's hash so a new tarball makes a new image.
debian_image() {
  local tarball=$1 hash image
  hash=$(sha256sum "$tarball" | cut -c1-12)
  image="localhost/commucat/debian:$SUITE-$hash"
  if ! podman image exists "$image"; then
    log "importing $(basename "$tarball") as $image"
    podman import --quiet --change 'CMD ["/bin/bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$tarball" "$image" >/dev/null
  fi
  echo "$image"
}

# Node 20 for the base: Debian bookworm only has Node 18, and no registry is reachable, so the
# host's own node binary goes in, provided it is a standalone build (every library bundled, only
# glibc and libstdc++ linked, which bookworm has) of Node 20 — and npm with it.
node_source() {
  local node npm_dir libs
  node=$(readlink -f "$(command -v node)") || die "no node on the host"
  [[ $("$node" -p 'process.versions.node.split(".")[0]') == 20 ]] || die "$node is not Node 20 ($("$node" --version))"
  "$node" -e 'const v = process.config.variables; const shared = Object.keys(v).filter((k) => /^node_shared/.test(k) && v[k] === true); if (shared.length) { console.error(shared.join(" ")); process.exit(1); }' \
    || die "$node links shared libraries (above) that a bare Debian does not have; install the official build"
  libs=$(ldd "$node" | awk '{print $1}' | grep -Ev '^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|lib(c|m|dl|pthread|rt|gcc_s|stdc\+\+)\.so\.[0-9]+)$' || true)
  [[ -z $libs ]] || die "$node needs libraries beyond glibc and libstdc++: $libs"
  npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
  [[ -f $npm_dir/package.json && $(basename "$npm_dir") == npm ]] || die "cannot find npm's folder (got $npm_dir)"
  # node-gyp builds native modules against these headers instead of downloading them.
  node_include=$(cd "$(dirname "$node")/../include/node" 2>/dev/null && pwd) || die "no Node headers next to $node (../include/node)"
  [[ -f $node_include/node_version.h ]] || die "no node_version.h in $node_include"
  grep -q "define NODE_PATCH_VERSION $("$node" -p 'process.versions.node.split(".")[2]')\$" "$node_include/node_version.h" \
    || die "the headers in $node_include are not those of $node"
  printf '%s\n%s\n%s\n' "$node" "$npm_dir" "$node_include"
}

# The base build context: node, npm and the apt sources, refreshed only when they changed, so the
# COPY layers (keyed by content) stay cached.
base_context() {
  local ctx="$CACHE/base-context" node npm_dir node_include
  { read -r node; read -r npm_dir; read -r node_include; } < <(node_source)
  mkdir -p "$ctx"
  cmp -s "$node" "$ctx/node" || install -m 0755 "$node" "$ctx/node"
  if ! cmp -s "$npm_dir/package.json" "$ctx/npm/package.json"; then
    rm -rf "$ctx/npm"
    cp -a "$npm_dir" "$ctx/npm"
  fi
  if ! cmp -s "$node_include/node_version.h" "$ctx/include-node/node_version.h"; then
    rm -rf "$ctx/include-node"
    cp -a "$node_include" "$ctx/include-node"
  fi
  cp "$ROOT/docker/base/debian.sources" "$ctx/debian.sources"
  echo "$ctx"
}

# The CA bundle npm trusts on this host (NODE_EXTRA_CA_CERTS, else npm's cafile), handed to the
# `npm ci` step as a build secret: a TLS-intercepting proxy's CA works, and no layer keeps it.
npm_ca_secret() {
  local ca="${NODE_EXTRA_CA_CERTS:-}"
  [[ -n $ca ]] || ca=$(npm config get cafile 2>/dev/null || true)
  [[ -n $ca && $ca != null && $ca != undefined && -s $ca ]] && printf -- '--secret=id=npm-ca,src=%s\n' "$ca"
  return 0
}

# One snapshot of the sources for every image of a run: all images come from the same tree even
# while files are being edited, and the build stages they share stay cached from one image to the
# next. Files git would commit (tracked or new, not ignored); .dockerignore applies on top.
source_snapshot() {
  local snapshot="$CACHE/context"
  if ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "$ROOT"
    return
  fi
  rm -rf "$snapshot"
  mkdir -p "$snapshot"
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
    [[ -e $file ]] && printf '%s\0' "$file"
  done | tar --null -T - -cf -) | tar -C "$snapshot" -xf -
  cp "$ROOT/.dockerignore" "$snapshot/.dockerignore"
  echo "$snapshot"
}

timed_build() {
  local what=$1 logfile="$CACHE/logs/$1.log" started=$SECONDS
  shift
  mkdir -p "$CACHE/logs"
  if ! build "$@" >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    die "building $what failed (log: $logfile)"
  fi
  log "$what built in $((SECONDS - started)) s"
}

main() {
  local -a images=("$@")
  [[ ${#images[@]} -gt 0 ]] || images=("${ALL_IMAGES[@]}")
  local name
  for name in "${images[@]}"; do
    [[ " ${ALL_IMAGES[*]} " == *" $name "* ]] || die "unknown image $name (one of: ${ALL_IMAGES[*]})"
  done
  require_tools
  local started=$SECONDS tarball debian ctx
  tarball=$(debian_rootfs)
  debian=$(debian_image "$tarball")
  ctx=$(base_context)
  local node_base="localhost/commucat/node-base:20-$SUITE" media_base="localhost/commucat/node-media-base:20-$SUITE" build_base="localhost/commucat/node-build-base:20-$SUITE" base
  for base in node-base node-build-base node-media-base; do
    timed_build "$base" -f "$ROOT/docker/base/Containerfile" --build-arg "DEBIAN_IMAGE=$debian" --target "$base" -t "localhost/commucat/$base:20-$SUITE" "$ctx"
  done

  local revision version context
  context=$(source_snapshot)
  revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
  [[ $revision == unknown || -z $(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1) ]] || revision="$revision-dirty"
  version=$(node -p 'require(process.argv[1]).version' "$ROOT/package.json")
  local -a secret=()
  mapfile -t secret < <(npm_ca_secret)
  for name in "${images[@]}"; do
    timed_build "$name" -f "$context/docker/Dockerfile" "${secret[@]}" \
      --build-arg "SERVICE=$name" --build-arg "BASE_IMAGE=$node_base" --build-arg "MEDIA_BASE_IMAGE=$media_base" --build-arg "BUILD_BASE_IMAGE=$build_base" \
      --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
      -t "localhost/commucat/$name:$TAG" "$context"
  done

  log "done in $((SECONDS - started)) s"
  printf '%-40s %s\n' IMAGE SIZE
  for name in "${images[@]}"; do
    printf '%-40s %s\n' "commucat/$name:$TAG" "$(podman image inspect --format '{{.Size}}' "localhost/commucat/$name:$TAG" | numfmt --to=si --suffix=B)"
  done
}

# One line: bash has read all of it before main runs, so editing this file mid-run is harmless.
main "$@"; exit $?
