# shellcheck shell=bash
# `stack.sh install`: puts PostgreSQL 15, Redis 7, nats-server and ffmpeg on the machine from
# Debian's packages. Sourced by scripts/stack.sh.

# ffmpeg (with libvpx) is what services/media spawns to encode raw video to VP8.
STACK_APT_PACKAGES=(postgresql-15 postgresql-client-15 redis-server nats-server openssl ffmpeg)

# Prints the programs the stack needs that are not installed, one per line.
stack_missing_programs() {
  local program
  for program in initdb pg_ctl postgres pg_isready psql; do
    [[ -x $PG_BIN/$program ]] || printf '%s\n' "$PG_BIN/$program"
  done
  [[ -n $REDIS_SERVER_BIN && -x $REDIS_SERVER_BIN ]] || printf '%s\n' redis-server
  [[ -n $REDIS_CLI_BIN && -x $REDIS_CLI_BIN ]] || printf '%s\n' redis-cli
  [[ -n $NATS_SERVER_BIN && -x $NATS_SERVER_BIN ]] || printf '%s\n' nats-server
  command -v openssl >/dev/null 2>&1 || printf '%s\n' openssl
  command -v ffmpeg >/dev/null 2>&1 || printf '%s\n' ffmpeg
  # Used by stack.sh itself; part of util-linux/coreutils on Debian.
  command -v flock >/dev/null 2>&1 || printf '%s\n' flock
  command -v setsid >/dev/null 2>&1 || printf '%s\n' setsid
  if stack_is_root; then
    command -v runuser >/dev/null 2>&1 || printf '%s\n' runuser
  fi
  return 0
}

stack_install() {
  local missing
  missing=$(stack_missing_programs)
  if [[ -z $missing ]]; then
    stack_say "install: PostgreSQL 15, Redis, nats-server, openssl and ffmpeg are already installed; nothing to do"
    return 0
  fi
  stack_say "install: missing: $(tr '\n' ' ' <<<"$missing")"

  local -a apt_get
  if stack_is_root; then
    apt_get=(env DEBIAN_FRONTEND=noninteractive apt-get)
  elif command -v sudo >/dev/null 2>&1; then
    apt_get=(sudo env DEBIAN_FRONTEND=noninteractive apt-get)
  else
    stack_die "install: not root and sudo is not available; install these Debian packages as root: ${STACK_APT_PACKAGES[*]}"
  fi
  command -v apt-get >/dev/null 2>&1 || stack_die "install: apt-get not found; this script supports Debian/Ubuntu only"

  local -a install_cmd=("${apt_get[@]}" install -y --no-install-recommends "${STACK_APT_PACKAGES[@]}")
  if ! "${install_cmd[@]}"; then
    # A fresh container usually has no package lists yet; refresh them once and retry.
    stack_say "install: apt-get install failed; running apt-get update and retrying"
    "${apt_get[@]}" update || stack_die "install: apt-get update failed"
    "${install_cmd[@]}" || stack_die "install: apt-get install ${STACK_APT_PACKAGES[*]} failed"
  fi

  # Debian's postinst may have created (and tried to start) its own cluster on port 5432.
  # We never use it: our cluster lives in the data folder on its own port.
  stack_load_settings
  missing=$(stack_missing_programs)
  [[ -z $missing ]] || stack_die "install: still missing after apt-get: $(tr '\n' ' ' <<<"$missing")"
  stack_say "install: done"
}
