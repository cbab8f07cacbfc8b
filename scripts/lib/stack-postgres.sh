# shellcheck shell=bash
# PostgreSQL part of the local stack: a private cluster in the data folder,
# listening on 127.0.0.1 only. Sourced by scripts/stack.sh.

PG_APP_ROLE=commucat
PG_APP_DATABASE=commucat
# Bootstrap superuser; reachable only through the private unix socket.
PG_SUPERUSER=postgres
PG_DEDICATED_OS_USER=commucat-pg

# Root runs the cluster as an unprivileged user, who may be unable to traverse the data folder's
# parents (a checkout under /root, mode 0700). So root keeps the cluster in a per-data-folder
# directory under /var/lib that any user can reach; everything else stays in the data folder.
PG_ROOT_CLUSTERS=/var/lib/commucat-stack

pg_load_paths() {
  PG_DIR=$STACK_DIR/pg
  if stack_is_root; then
    PG_DIR=$PG_ROOT_CLUSTERS/$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-16)/pg
  fi
  PG_DATA=$PG_DIR/data
  PG_SOCKET_DIR=$PG_DIR/run
  PG_LOG=$LOG_DIR/postgres.log
  # The server writes its own log, so it too must be reachable by the cluster's user.
  if stack_is_root; then PG_LOG=$PG_DIR/postgres.log; fi
  PG_PASSWORD_FILE=$SECRETS_DIR/pg-password
  PG_STACK_CONF_NAME=commucat-stack.conf
}

# PostgreSQL refuses to run as root, so root runs it as a system user instead.
pg_os_user() {
  if ! stack_is_root; then
    id -un
  elif [[ -n ${COMMUCAT_PG_OS_USER:-} ]]; then
    printf '%s\n' "$COMMUCAT_PG_OS_USER"
  elif getent passwd postgres >/dev/null; then
    printf '%s\n' postgres
  else
    printf '%s\n' "$PG_DEDICATED_OS_USER"
  fi
}

pg_ensure_os_user() {
  local user
  user=$(pg_os_user)
  stack_is_root || return 0
  getent passwd "$user" >/dev/null && return 0
  stack_say "postgres: creating system user $user to run the server"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$user" || stack_die "postgres: could not create system user $user"
}

# Runs a PostgreSQL program as the cluster owner, from / so no unreadable cwd gets in the way.
# Closes the lock descriptor: a postmaster inheriting it would hold the stack lock forever.
pg_run() {
  local program=$1
  shift
  if stack_is_root; then
    (cd / && runuser -u "$(pg_os_user)" -- "$PG_BIN/$program" "$@" 9>&-)
  else
    (cd / && "$PG_BIN/$program" "$@" 9>&-)
  fi
}

# The password is made once and kept (0600) so the DSN stays stable across restarts.
pg_password() {
  if [[ ! -s $PG_PASSWORD_FILE ]]; then
    mkdir -p -- "$SECRETS_DIR"
    chmod 0700 -- "$SECRETS_DIR"
    local tmp
    tmp=$(mktemp "$SECRETS_DIR/.pg-password.XXXXXX")
    # Hex keeps the password safe inside a URL and inside SQL literals.
    od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$tmp"
    chmod 0600 -- "$tmp"
    mv -f -- "$tmp" "$PG_PASSWORD_FILE"
  fi
  local password
  IFS= read -r password <"$PG_PASSWORD_FILE" || [[ -n ${password:-} ]]
  [[ $password =~ ^[0-9a-f]{16,}$ ]] || stack_die "postgres: $PG_PASSWORD_FILE is not a hex password; delete it and run reset"
  printf '%s\n' "$password"
}

pg_dsn() {
  printf 'postgres://%s:%s@%s:%s/%s\n' "$PG_APP_ROLE" "$(pg_password)" "$STACK_HOST" "$PG_PORT" "$PG_APP_DATABASE"
}

pg_pid() { stack_live_pid "$PG_DATA/postmaster.pid" postgres; }

pg_is_ready() {
  (cd / && "$PG_BIN/pg_isready" -q -h "$STACK_HOST" -p "$PG_PORT" -t 1)
}

pg_prepare_dirs() {
  local user
  user=$(pg_os_user)
  mkdir -p -- "$PG_DIR" "$PG_SOCKET_DIR"
  touch -- "$PG_LOG"
  # The socket accepts the superuser without a password, so only the owner may reach it.
  chmod 0700 -- "$PG_SOCKET_DIR"
  chmod 0755 -- "$PG_DIR"
  if stack_is_root; then
    chown -R -- "$user:" "$PG_DIR"
    chown -- "$user:" "$PG_LOG"
    # Keep every log findable in the data folder even when the cluster lives elsewhere.
    ln -sfn -- "$PG_LOG" "$LOG_DIR/postgres.log"
  fi
}

pg_initdb_if_needed() {
  [[ -f $PG_DATA/PG_VERSION ]] && return 0
  if [[ -d $PG_DATA ]] && [[ -n $(ls -A -- "$PG_DATA") ]]; then
    stack_die "postgres: $PG_DATA is not empty but has no cluster; run '$0 reset' to start over"
  fi
  stack_say "postgres: initdb in $PG_DATA"
  if ! pg_run initdb -D "$PG_DATA" -U "$PG_SUPERUSER" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C >>"$PG_LOG" 2>&1; then
    stack_fail_with_log "$PG_LOG" "postgres: initdb failed"
  fi
  # Our settings live in a separate file rewritten on every start, so port overrides apply.
  printf "\ninclude_if_exists = '%s'\n" "$PG_STACK_CONF_NAME" >>"$PG_DATA/postgresql.conf"
}

pg_write_stack_conf() {
  local conf=$PG_DATA/$PG_STACK_CONF_NAME
  cat >"$conf" <<CONF
# Written by scripts/stack.sh on every start; edits are overwritten.
listen_addresses = '$STACK_HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
CONF
  if stack_is_root; then chown -- "$(pg_os_user):" "$conf"; fi
}

# Idempotent: creates the application role and database, and (re)sets the role's password
# to the stored one, so a half-finished first start heals on the next one.
pg_ensure_app_role() {
  local password
  password=$(pg_password)
  # Fed through stdin so the password never appears in a process list.
  if ! printf '%s\n' \
    "\\set pw '$password'" \
    "SELECT 'CREATE ROLE $PG_APP_ROLE' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_APP_ROLE') \\gexec" \
    "ALTER ROLE $PG_APP_ROLE WITH LOGIN CREATEDB PASSWORD :'pw';" \
    "SELECT 'CREATE DATABASE $PG_APP_DATABASE OWNER $PG_APP_ROLE' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_APP_DATABASE') \\gexec" |
    pg_run psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres >/dev/null 2>>"$PG_LOG"; then
    stack_fail_with_log "$PG_LOG" "postgres: could not create role/database $PG_APP_ROLE"
  fi
}

pg_start() {
  local pid
  if pid=$(pg_pid); then
    stack_say "postgres: already running (pid $pid) on $STACK_HOST:$PG_PORT"
    pg_ensure_app_role
    return 0
  fi
  stack_require_free_port postgres "$PG_PORT" COMMUCAT_PG_PORT
  local socket_path=$PG_SOCKET_DIR/.s.PGSQL.$PG_PORT
  # Linux limits unix socket paths to 107 bytes; PostgreSQL would fail with a vaguer message.
  ((${#socket_path} <= 107)) || stack_die "postgres: socket path too long (${#socket_path} > 107 bytes): $socket_path; use a shorter COMMUCAT_DATA_DIR"

  pg_ensure_os_user
  pg_prepare_dirs
  pg_initdb_if_needed
  pg_write_stack_conf
  # pg_ctl's own wait (-w) is bounded by the timeout; the postmaster's output goes to the log.
  # shellcheck disable=SC2094 # both append; pg_ctl's own messages belong in the same log
  if ! pg_run pg_ctl -D "$PG_DATA" -l "$PG_LOG" -w -t "$STACK_TIMEOUT" -s start >>"$PG_LOG" 2>&1; then
    stack_fail_with_log "$PG_LOG" "postgres: pg_ctl start failed or timed out (${STACK_TIMEOUT}s) on $STACK_HOST:$PG_PORT"
  fi
  if ! stack_wait_until "$STACK_TIMEOUT" pg_is_ready; then
    stack_fail_with_log "$PG_LOG" "postgres: not accepting TCP connections on $STACK_HOST:$PG_PORT within ${STACK_TIMEOUT}s"
  fi
  pg_ensure_app_role
  stack_say "postgres: started (pid $(pg_pid || echo '?')) on $STACK_HOST:$PG_PORT"
}

pg_stop() {
  local pid
  if ! pid=$(pg_pid); then
    stack_say "postgres: not running"
    return 0
  fi
  if ! pg_run pg_ctl -D "$PG_DATA" -m fast -w -t "$STACK_TIMEOUT" -s stop >>"$PG_LOG" 2>&1; then
    stack_fail_with_log "$PG_LOG" "postgres: pg_ctl stop failed (pid $pid)"
  fi
  stack_say "postgres: stopped"
}

pg_status() {
  local pid
  if ! pid=$(pg_pid); then
    printf '%-9s stopped  %s:%s  data %s\n' postgres "$STACK_HOST" "$PG_PORT" "$PG_DATA"
    return 1
  fi
  if pg_is_ready; then
    printf '%-9s running  %s:%s  pid %s  data %s\n' postgres "$STACK_HOST" "$PG_PORT" "$pid" "$PG_DATA"
  else
    printf '%-9s not-ready  %s:%s  pid %s (process alive, not accepting connections)  log %s\n' postgres "$STACK_HOST" "$PG_PORT" "$pid" "$PG_LOG"
    return 1
  fi
}
