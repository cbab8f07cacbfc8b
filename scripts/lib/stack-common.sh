# shellcheck shell=bash
# shellcheck disable=SC2034 # the globals set here are read by the other stack-*.sh modules
# Settings and small helpers shared by the stack-*.sh modules.
# Sourced by scripts/stack.sh; never executed on its own.

stack_say() { printf 'stack: %s\n' "$*"; }
stack_warn() { printf 'stack: warning: %s\n' "$*" >&2; }
stack_die() {
  printf 'stack: error: %s\n' "$*" >&2
  exit 1
}

# Port numbers come from the environment, so reject typos before they reach a config file.
stack_require_port() {
  local name=$1 value=$2
  if ! [[ $value =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
    stack_die "$name must be a TCP port number (1-65535), got '$value'"
  fi
}

# Resolves every path, port and binary once. REPO_DIR must be set by the caller.
stack_load_settings() {
  STACK_HOST=127.0.0.1
  STACK_TIMEOUT=${COMMUCAT_STACK_TIMEOUT:-30}
  [[ $STACK_TIMEOUT =~ ^[0-9]+$ ]] || stack_die "COMMUCAT_STACK_TIMEOUT must be whole seconds, got '$STACK_TIMEOUT'"

  local data_dir=${COMMUCAT_DATA_DIR:-$REPO_DIR/.data}
  # Absolute, because PostgreSQL tools run with / as working directory.
  DATA_DIR=$(realpath -m -- "$data_dir")
  [[ $DATA_DIR != / ]] || stack_die "COMMUCAT_DATA_DIR must not be /"
  # The paths end up quoted inside generated config files; keep them plain.
  if [[ $DATA_DIR == *[\"\'\\$'\n']* ]]; then
    stack_die "COMMUCAT_DATA_DIR must not contain quotes, backslashes or newlines: $DATA_DIR"
  fi

  STACK_DIR=$DATA_DIR/stack
  LOG_DIR=$STACK_DIR/logs
  SECRETS_DIR=$STACK_DIR/secrets
  LOCK_FILE=$DATA_DIR/.stack.lock

  PG_PORT=${COMMUCAT_PG_PORT:-55432}
  REDIS_PORT=${COMMUCAT_REDIS_PORT:-56379}
  NATS_PORT=${COMMUCAT_NATS_PORT:-54222}
  NATS_MONITOR_PORT=${COMMUCAT_NATS_MONITOR_PORT:-58222}
  stack_require_port COMMUCAT_PG_PORT "$PG_PORT"
  stack_require_port COMMUCAT_REDIS_PORT "$REDIS_PORT"
  stack_require_port COMMUCAT_NATS_PORT "$NATS_PORT"
  if [[ $NATS_MONITOR_PORT == off ]]; then NATS_MONITOR_PORT=0; fi
  if [[ $NATS_MONITOR_PORT != 0 ]]; then
    stack_require_port COMMUCAT_NATS_MONITOR_PORT "$NATS_MONITOR_PORT"
  fi

  PG_BIN=${COMMUCAT_PG_BIN:-/usr/lib/postgresql/15/bin}
  REDIS_SERVER_BIN=$(stack_find_bin redis-server /usr/bin)
  REDIS_CLI_BIN=$(stack_find_bin redis-cli /usr/bin)
  # Debian installs nats-server in /usr/sbin, which is not on an ordinary user's PATH.
  NATS_SERVER_BIN=${COMMUCAT_NATS_BIN:-$(stack_find_bin nats-server /usr/sbin)}
}

# Prints the path of a program: PATH first, then the given fallback directories.
# Prints nothing (and succeeds) when it is not installed; callers check with -x.
stack_find_bin() {
  local name=$1 dir
  shift
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return 0
  fi
  for dir in "$@"; do
    if [[ -x $dir/$name ]]; then
      printf '%s\n' "$dir/$name"
      return 0
    fi
  done
}

stack_is_root() { [[ $(id -u) == 0 ]]; }

# Serialises start/stop/reset/env so helpers running in parallel cannot race on initdb
# or on generating the password. Daemons must be launched with 9>&- or they keep the lock.
stack_take_lock() {
  mkdir -p -- "$DATA_DIR"
  exec 9>"$LOCK_FILE"
  if ! flock -w 120 9; then
    stack_die "another stack.sh holds $LOCK_FILE for more than 120 s"
  fi
}

# Directories another OS user (postgres) must traverse get 0755 explicitly,
# so a restrictive umask cannot lock it out.
stack_make_dirs() {
  mkdir -p -- "$STACK_DIR" "$LOG_DIR" "$SECRETS_DIR"
  chmod 0755 -- "$DATA_DIR" "$STACK_DIR" "$LOG_DIR"
  chmod 0700 -- "$SECRETS_DIR"
}

# Prints the pid recorded in a pid file if that process is alive and is the expected
# program (guards against a stale file whose pid was reused). Fails otherwise.
stack_live_pid() {
  local pid_file=$1 expected_comm=$2 pid comm
  [[ -r $pid_file ]] || return 1
  IFS= read -r pid <"$pid_file" || [[ -n ${pid:-} ]] || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stack_pid_running "$pid" || return 1
  IFS= read -r comm <"/proc/$pid/comm" 2>/dev/null || return 1
  [[ $comm == "$expected_comm"* ]] || return 1
  printf '%s\n' "$pid"
}

# True if something already accepts TCP connections on 127.0.0.1:<port>.
stack_port_in_use() {
  # shellcheck disable=SC2016 # $0 is expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}

stack_require_free_port() {
  local component=$1 port=$2 env_name=$3
  if stack_port_in_use "$port"; then
    stack_die "$component: 127.0.0.1:$port is already in use by another process; pick another port with $env_name"
  fi
}

# Polls a check command until it succeeds or the timeout runs out.
stack_wait_until() {
  local timeout_s=$1 deadline
  shift
  deadline=$((SECONDS + timeout_s))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# A zombie still answers kill -0; it counts as gone (this box's pid 1 reaps slowly).
stack_pid_running() {
  local pid=$1 stat
  kill -0 "$pid" 2>/dev/null || return 1
  IFS= read -r stat <"/proc/$pid/stat" 2>/dev/null || return 1
  # Field 3 is the state; the command name before it is in parentheses and may hold spaces.
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

stack_pid_gone() { ! stack_pid_running "$1"; }

stack_print_log_tail() {
  local log_file=$1
  if [[ -r $log_file ]]; then
    printf -- '--- last 30 lines of %s ---\n' "$log_file" >&2
    tail -n 30 -- "$log_file" >&2
    printf -- '--- end of log ---\n' >&2
  else
    printf 'stack: (no log at %s)\n' "$log_file" >&2
  fi
}

stack_fail_with_log() {
  local log_file=$1
  shift
  printf 'stack: error: %s\n' "$*" >&2
  stack_print_log_tail "$log_file"
  exit 1
}
