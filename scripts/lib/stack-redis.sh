# shellcheck shell=bash
# Redis part of the local stack: no persistence, 127.0.0.1 only. Sourced by scripts/stack.sh.

redis_load_paths() {
  REDIS_DIR=$STACK_DIR/redis
  REDIS_CONF=$REDIS_DIR/redis.conf
  REDIS_PID_FILE=$REDIS_DIR/redis.pid
  REDIS_LOG=$LOG_DIR/redis.log
}

redis_pid() { stack_live_pid "$REDIS_PID_FILE" redis-server; }

redis_ping() {
  local port=${1:-$REDIS_PORT} reply
  reply=$(timeout 3 "$REDIS_CLI_BIN" -h "$STACK_HOST" -p "$port" ping 2>/dev/null) || return 1
  [[ $reply == PONG ]]
}

# The port the running server was started with, read back from the config it was given;
# stop must not follow a changed COMMUCAT_REDIS_PORT to somebody else's server.
redis_configured_port() {
  local key value
  while read -r key value; do
    if [[ $key == port ]]; then
      printf '%s\n' "$value"
      return 0
    fi
  done <"$REDIS_CONF"
  return 1
}

redis_write_conf() {
  cat >"$REDIS_CONF" <<CONF
# Written by scripts/stack.sh on every start; edits are overwritten.
bind $STACK_HOST
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile "$REDIS_PID_FILE"
logfile "$REDIS_LOG"
dir "$REDIS_DIR"
save ""
appendonly no
CONF
}

redis_start() {
  local pid
  if pid=$(redis_pid); then
    stack_say "redis: already running (pid $pid) on $STACK_HOST:$(redis_configured_port || echo "$REDIS_PORT")"
    return 0
  fi
  [[ -x $REDIS_SERVER_BIN ]] || stack_die "redis: redis-server not found; run '$0 install'"
  stack_require_free_port redis "$REDIS_PORT" COMMUCAT_REDIS_PORT
  mkdir -p -- "$REDIS_DIR"
  rm -f -- "$REDIS_PID_FILE"
  redis_write_conf
  # daemonize forks into its own session; our descriptors must not keep a caller's pipe
  # (or the stack lock, fd 9) open.
  if ! "$REDIS_SERVER_BIN" "$REDIS_CONF" </dev/null >>"$REDIS_LOG" 2>&1 9>&-; then
    stack_fail_with_log "$REDIS_LOG" "redis: redis-server exited with an error"
  fi
  if ! stack_wait_until "$STACK_TIMEOUT" redis_ping; then
    stack_fail_with_log "$REDIS_LOG" "redis: no PONG on $STACK_HOST:$REDIS_PORT within ${STACK_TIMEOUT}s"
  fi
  stack_say "redis: started (pid $(redis_pid || echo '?')) on $STACK_HOST:$REDIS_PORT"
}

redis_stop() {
  local pid port
  if ! pid=$(redis_pid); then
    stack_say "redis: not running"
    return 0
  fi
  port=$(redis_configured_port) || port=$REDIS_PORT
  timeout 5 "$REDIS_CLI_BIN" -h "$STACK_HOST" -p "$port" shutdown nosave >/dev/null 2>&1 || true
  if ! stack_wait_until "$STACK_TIMEOUT" stack_pid_gone "$pid"; then
    stack_warn "redis: shutdown nosave did not stop pid $pid; sending SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    stack_wait_until 10 stack_pid_gone "$pid" || stack_die "redis: pid $pid does not exit"
  fi
  rm -f -- "$REDIS_PID_FILE"
  stack_say "redis: stopped"
}

redis_status() {
  local pid port
  if ! pid=$(redis_pid); then
    printf '%-9s stopped  %s:%s\n' redis "$STACK_HOST" "$REDIS_PORT"
    return 1
  fi
  port=$(redis_configured_port) || port=$REDIS_PORT
  if redis_ping "$port"; then
    printf '%-9s running  %s:%s  pid %s  (no persistence)\n' redis "$STACK_HOST" "$port" "$pid"
  else
    printf '%-9s not-ready  %s:%s  pid %s (process alive, no PONG)  log %s\n' redis "$STACK_HOST" "$port" "$pid" "$REDIS_LOG"
    return 1
  fi
}
