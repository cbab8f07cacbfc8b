#!/usr/bin/env bash
# Runs the CommuCat fleet locally as plain processes against the local stack (scripts/stack.sh).
#
# Usage: scripts/fleet.sh up|down|status
#   up      install what is missing (stack packages, npm deps), build, make a TLS certificate and a
#           key-encryption key, migrate, start every service as its own process, wait until each
#           is ready, then print the gateway URL and the server's Noise static public key.
#   down    stop the services, then the stack.
#   status  one line per service.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
DATA="${COMMUCAT_DATA_DIR:-$ROOT/.data}"
RUN="$DATA/run"
LOGS="$DATA/logs"
# Start order matters: each service's readiness needs the ones before it.
SERVICES=(secrets directory presence relay router media federation gateway)

log() { printf 'fleet: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

admin_port() {
  case "$1" in
    gateway) echo 9100 ;; secrets) echo 9101 ;; directory) echo 9102 ;; presence) echo 9103 ;; relay) echo 9105 ;; router) echo 9104 ;; media) echo 9106 ;; federation) echo 9107 ;;
  esac
}

is_running() {
  local pidfile="$RUN/$1.pid"
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

prepare() {
  bash "$ROOT/scripts/stack.sh" install
  bash "$ROOT/scripts/stack.sh" start
  if [[ ! -d $ROOT/node_modules ]]; then
    log "installing npm dependencies"
    (cd "$ROOT" && npm ci --no-audit --no-fund >/dev/null)
  fi
  log "building"
  (cd "$ROOT" && npx tsc -b tsconfig.build.json)
  mkdir -p "$RUN" "$LOGS" "$DATA/tls"
  bash "$ROOT/scripts/tls-cert.sh" "$DATA/tls" >/dev/null
  if [[ ! -s $DATA/secrets.kek ]]; then
    (umask 077 && openssl rand -hex 32 >"$DATA/secrets.kek")
  fi
}

fleet_env() {
  eval "$(bash "$ROOT/scripts/stack.sh" env)"
  export COMMUCAT_CONFIG="${COMMUCAT_CONFIG:-$ROOT/commucat.toml}"
  export COMMUCAT_TLS_CERT="$DATA/tls/gateway.crt" COMMUCAT_TLS_KEY="$DATA/tls/gateway.key"
  COMMUCAT_SECRETS_KEK=$(cat "$DATA/secrets.kek")
  export COMMUCAT_SECRETS_KEK
}

wait_ready() {
  local name=$1 port deadline
  port=$(admin_port "$name")
  deadline=$((SECONDS + 60))
  until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    if ! is_running "$name"; then
      tail -n 20 "$LOGS/$name.log" >&2 || true
      die "$name exited during start (log: $LOGS/$name.log)"
    fi
    ((SECONDS < deadline)) || { tail -n 20 "$LOGS/$name.log" >&2; die "$name not ready after 60 s"; }
    sleep 0.3
  done
}

cmd_up() {
  prepare
  fleet_env
  log "applying migrations"
  node "$ROOT/services/cli/dist/main.js" migrate >&2
  for name in "${SERVICES[@]}"; do
    if is_running "$name"; then
      log "$name already running (pid $(cat "$RUN/$name.pid"))"
      continue
    fi
    nohup node "$ROOT/services/$name/dist/main.js" >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
    wait_ready "$name"
    log "$name ready (pid $(cat "$RUN/$name.pid"), admin http://127.0.0.1:$(admin_port "$name"))"
  done
  local bind info
  bind=$(grep -E '^bind *=' "$COMMUCAT_CONFIG" | head -1 | sed -E 's/.*"(.*)".*/\1/')
  bind="${COMMUCAT_BIND:-$bind}"
  info=$(curl -fsSk "https://$bind/api/server-info")
  echo "gateway: https://$bind/connect"
  echo "noise static public key: $(node -e 'process.stdout.write(JSON.parse(process.argv[1]).noise_public)' "$info")"
  echo "domain: $(node -e 'process.stdout.write(JSON.parse(process.argv[1]).domain)' "$info")"
}

stop_service() {
  local name=$1 pid
  is_running "$name" || { rm -f "$RUN/$name.pid"; return 0; }
  pid=$(cat "$RUN/$name.pid")
  kill -TERM "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 10 s; killing"; kill -KILL "$pid"; }
  rm -f "$RUN/$name.pid"
  log "$name stopped"
}

cmd_down() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_service "${SERVICES[$i]}"; done
  if [[ -x $ROOT/scripts/stack.sh || -f $ROOT/scripts/stack.sh ]]; then bash "$ROOT/scripts/stack.sh" stop; fi
}

cmd_status() {
  for name in "${SERVICES[@]}"; do
    if is_running "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

# The operator CLI with the local fleet's settings (stack DSNs, config file, KEK).
cmd_cli() {
  fleet_env
  exec node "$ROOT/services/cli/dist/main.js" "$@"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  cli) shift; cmd_cli "$@" ;;
  *) echo "usage: $0 up|down|status|cli <command>" >&2; exit 2 ;;
esac
