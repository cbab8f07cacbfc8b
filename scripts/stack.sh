#!/usr/bin/env bash
# Local PostgreSQL 15 + Redis 7 + NATS (JetStream) for development and integration tests.
# No systemd, no default ports: everything lives under ${COMMUCAT_DATA_DIR:-<repo>/.data}/stack
# and listens on 127.0.0.1 only.
#
# Usage: scripts/stack.sh install|start|stop|status|env|reset
#
# Environment overrides (defaults in brackets):
#   COMMUCAT_DATA_DIR           data folder                         [<repo>/.data]
#   COMMUCAT_PG_PORT            PostgreSQL port                     [55432]
#   COMMUCAT_REDIS_PORT         Redis port                          [56379]
#   COMMUCAT_NATS_PORT          NATS client port                    [54222]
#   COMMUCAT_NATS_MONITOR_PORT  NATS monitoring port, 0/off = none  [58222]
#   COMMUCAT_STACK_TIMEOUT      seconds to wait for readiness/stop  [30]
#   COMMUCAT_PG_BIN             PostgreSQL binaries                 [/usr/lib/postgresql/15/bin]
#   COMMUCAT_PG_OS_USER         (root only) OS user running postgres [postgres]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd -- "$SCRIPT_DIR/.." && pwd)

# shellcheck source=lib/stack-common.sh
source "$SCRIPT_DIR/lib/stack-common.sh"
# shellcheck source=lib/stack-install.sh
source "$SCRIPT_DIR/lib/stack-install.sh"
# shellcheck source=lib/stack-postgres.sh
source "$SCRIPT_DIR/lib/stack-postgres.sh"
# shellcheck source=lib/stack-redis.sh
source "$SCRIPT_DIR/lib/stack-redis.sh"
# shellcheck source=lib/stack-nats.sh
source "$SCRIPT_DIR/lib/stack-nats.sh"

usage() {
  cat <<USAGE
usage: $0 <command>

  install  install PostgreSQL 15, Redis, nats-server, openssl, ffmpeg (apt-get; no-op if present)
  start    start all three (initdb on first start); no-op for what already runs
  stop     stop all three
  status   one line per component; exit 0 only if all are running and healthy
  env      print export lines for COMMUCAT_PG_DSN, COMMUCAT_REDIS_URL, COMMUCAT_NATS_URL
  reset    stop, then delete all stack data (database, password, logs)

Data folder: \${COMMUCAT_DATA_DIR:-<repo>/.data}; ports: COMMUCAT_PG_PORT (55432),
COMMUCAT_REDIS_PORT (56379), COMMUCAT_NATS_PORT (54222), COMMUCAT_NATS_MONITOR_PORT (58222, 0 = off).
USAGE
}

require_installed() {
  local missing
  missing=$(stack_missing_programs)
  [[ -z $missing ]] || stack_die "not installed: $(tr '\n' ' ' <<<"$missing")— run '$0 install'"
}

# Fails before starting anything if a port we still need is taken, so a clash does not
# leave a half-started stack behind.
check_ports_free() {
  pg_pid >/dev/null || stack_require_free_port postgres "$PG_PORT" COMMUCAT_PG_PORT
  redis_pid >/dev/null || stack_require_free_port redis "$REDIS_PORT" COMMUCAT_REDIS_PORT
  if ! nats_pid >/dev/null; then
    stack_require_free_port nats "$NATS_PORT" COMMUCAT_NATS_PORT
    if ((NATS_MONITOR_PORT != 0)); then
      stack_require_free_port nats-monitor "$NATS_MONITOR_PORT" COMMUCAT_NATS_MONITOR_PORT
    fi
  fi
}

cmd_start() {
  require_installed
  stack_take_lock
  check_ports_free
  stack_make_dirs
  pg_start
  redis_start
  nats_start
}

cmd_stop() {
  stack_take_lock
  # Stop everything even if one component fails, then report the failure. Each stop runs in
  # a subshell with errexit on ("cmd || x" would silently switch errexit off inside it).
  local failed=0 stop_fn
  for stop_fn in nats_stop redis_stop pg_stop; do
    set +e
    (
      set -e
      "$stop_fn"
    )
    # shellcheck disable=SC2181 # testing the subshell directly would disable its errexit
    (($? == 0)) || failed=1
    set -e
  done
  ((failed == 0)) || stack_die "stop: at least one component did not stop cleanly (see above)"
}

cmd_status() {
  local healthy=0
  pg_status || healthy=3
  redis_status || healthy=3
  nats_status || healthy=3
  return "$healthy"
}

cmd_env() {
  stack_take_lock
  stack_make_dirs
  printf 'export COMMUCAT_PG_DSN=%s\n' "$(pg_dsn)"
  printf 'export COMMUCAT_REDIS_URL=redis://%s:%s\n' "$STACK_HOST" "$REDIS_PORT"
  printf 'export COMMUCAT_NATS_URL=nats://%s:%s\n' "$STACK_HOST" "$NATS_PORT"
}

cmd_reset() {
  cmd_stop
  # STACK_DIR is always "<absolute data dir>/stack", never / or the repo itself.
  [[ $STACK_DIR == /?*/stack ]] || stack_die "reset: refusing to delete unexpected path $STACK_DIR"
  rm -rf -- "$STACK_DIR"
  if [[ $PG_DIR == "$PG_ROOT_CLUSTERS"/?*/pg ]]; then rm -rf -- "${PG_DIR%/pg}"; fi
  stack_say "reset: deleted $STACK_DIR"
}

main() {
  if (($# != 1)); then
    usage >&2
    exit 2
  fi
  stack_load_settings
  pg_load_paths
  redis_load_paths
  nats_load_paths
  case $1 in
  install) stack_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  reset) cmd_reset ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
