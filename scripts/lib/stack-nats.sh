# shellcheck shell=bash
# NATS part of the local stack: nats-server with JetStream, 127.0.0.1 only.
# Sourced by scripts/stack.sh.

nats_load_paths() {
  NATS_DIR=$STACK_DIR/nats
  NATS_CONF=$NATS_DIR/nats.conf
  NATS_STORE_DIR=$NATS_DIR/jetstream
  NATS_PID_FILE=$NATS_DIR/nats.pid
  NATS_LOG=$LOG_DIR/nats.log
}

nats_pid() { stack_live_pid "$NATS_PID_FILE" nats-server; }

# A NATS server greets every client with an INFO line before anything else.
nats_sends_info() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    IFS= read -r line <&3 || exit 1
    [[ $line == INFO* ]]' "$NATS_PORT" 2>/dev/null
}

# /healthz answers 200 only once JetStream is ready, not merely once the port is open.
nats_healthz_ok() {
  ((NATS_MONITOR_PORT != 0)) || return 0
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
    IFS= read -r status <&3 || exit 1
    [[ $status == "HTTP/1."?" 200"* ]]' "$NATS_MONITOR_PORT" 2>/dev/null
}

nats_is_ready() { nats_sends_info && nats_healthz_ok; }

nats_monitor_description() {
  if ((NATS_MONITOR_PORT == 0)); then
    printf 'monitor off'
  else
    printf 'monitor %s:%s' "$STACK_HOST" "$NATS_MONITOR_PORT"
  fi
}

nats_write_conf() {
  {
    printf '# Written by scripts/stack.sh on every start; edits are overwritten.\n'
    printf 'listen: "%s:%s"\n' "$STACK_HOST" "$NATS_PORT"
    if ((NATS_MONITOR_PORT != 0)); then
      printf 'http: "%s:%s"\n' "$STACK_HOST" "$NATS_MONITOR_PORT"
    fi
    printf 'pid_file: "%s"\n' "$NATS_PID_FILE"
    printf 'log_file: "%s"\n' "$NATS_LOG"
    # Modest limits: this is a dev box shared with PostgreSQL and Redis.
    printf 'jetstream {\n  store_dir: "%s"\n  max_memory_store: 256MB\n  max_file_store: 2GB\n}\n' "$NATS_STORE_DIR"
  } >"$NATS_CONF"
}

nats_start() {
  local pid
  if pid=$(nats_pid); then
    stack_say "nats: already running (pid $pid) on $STACK_HOST:$NATS_PORT"
    return 0
  fi
  [[ -n $NATS_SERVER_BIN && -x $NATS_SERVER_BIN ]] || stack_die "nats: nats-server not found; run '$0 install'"
  stack_require_free_port nats "$NATS_PORT" COMMUCAT_NATS_PORT
  if ((NATS_MONITOR_PORT != 0)); then
    stack_require_free_port nats-monitor "$NATS_MONITOR_PORT" COMMUCAT_NATS_MONITOR_PORT
  fi
  mkdir -p -- "$NATS_DIR" "$NATS_STORE_DIR"
  rm -f -- "$NATS_PID_FILE"
  nats_write_conf
  # nats-server does not daemonize: give it its own session so it outlives this shell
  # and its caller's process group, and keep it off the caller's stdout/stderr pipes and
  # the stack lock (fd 9).
  setsid "$NATS_SERVER_BIN" -c "$NATS_CONF" </dev/null >>"$NATS_LOG" 2>&1 9>&- &
  local launched=$!
  if ! stack_wait_until "$STACK_TIMEOUT" nats_ready_or_dead "$launched"; then
    kill -TERM "$launched" 2>/dev/null || true
    stack_fail_with_log "$NATS_LOG" "nats: not ready on $STACK_HOST:$NATS_PORT ($(nats_monitor_description)) within ${STACK_TIMEOUT}s"
  fi
  if stack_pid_gone "$launched"; then
    stack_fail_with_log "$NATS_LOG" "nats: nats-server exited during startup"
  fi
  stack_say "nats: started (pid $(nats_pid || echo "$launched")) on $STACK_HOST:$NATS_PORT, JetStream on, $(nats_monitor_description)"
}

# Ends the wait early when the server has already died (bad config, port race).
nats_ready_or_dead() {
  local pid=$1
  stack_pid_running "$pid" || return 0
  nats_is_ready
}

nats_stop() {
  local pid
  if ! pid=$(nats_pid); then
    stack_say "nats: not running"
    return 0
  fi
  # SIGTERM makes nats-server flush JetStream and exit cleanly.
  kill -TERM "$pid" 2>/dev/null || true
  if ! stack_wait_until "$STACK_TIMEOUT" stack_pid_gone "$pid"; then
    stack_warn "nats: pid $pid ignored SIGTERM for ${STACK_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    stack_wait_until 5 stack_pid_gone "$pid" || stack_die "nats: pid $pid does not exit"
  fi
  rm -f -- "$NATS_PID_FILE"
  stack_say "nats: stopped"
}

nats_status() {
  local pid
  if ! pid=$(nats_pid); then
    printf '%-9s stopped  %s:%s  %s\n' nats "$STACK_HOST" "$NATS_PORT" "$(nats_monitor_description)"
    return 1
  fi
  if nats_is_ready; then
    printf '%-9s running  %s:%s  pid %s  jetstream %s  %s\n' nats "$STACK_HOST" "$NATS_PORT" "$pid" "$NATS_STORE_DIR" "$(nats_monitor_description)"
  else
    printf '%-9s not-ready  %s:%s  pid %s (process alive, not healthy)  log %s\n' nats "$STACK_HOST" "$NATS_PORT" "$pid" "$NATS_LOG"
    return 1
  fi
}
