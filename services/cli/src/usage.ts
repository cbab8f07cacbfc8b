const EXIT_CODES = `exit codes:
  0   success (diagnose: every check passed)
  1   the command failed: a diagnose check failed, the server refused (not found, already
      exists, …), the --out file exists, call-simulate got no output or refusals
  2   usage error (unknown command or flag, missing argument)
  3   a fleet service could not be reached (is the fleet up? \`make up\`)
  78  configuration error (commucat.toml or COMMUCAT_* variables)`;

const COMMON = `common flags:
  --json           one JSON document on stdout (errors too: {"error":{code,message,hint}});
                   no progress lines on stderr
  --config <file>  config file (default $COMMUCAT_CONFIG, then ./commucat.toml)
  -h, --help       this text`;

export const USAGE = `usage: commucat-cli <command> [flags]      (also installed as commucat-admin)

commands:
  migrate                              apply pending SQL migrations (storage.postgres_dsn)
  register-user --handle <h> [--display-name <n>]
                                       create a user in the directory; prints user_id
  devices list --user <user_id>        a user's devices (ids only: the directory has no
                                       handle lookup)
  devices revoke <device_id>           revoke a device and its sessions; its gateway drops it
  sessions revoke (--device <id> | --user <user_id>)
                                       revoke REST sessions of a device or of every device of a user
  rotate-keys --user <user_id> --out <file> [--device <id>] [--force]
                                       new Ed25519 device key + 30-day certificate from the fleet
                                       CA; the seed and private key go ONLY to <file> (mode 0600,
                                       never overwritten without --force); prints public values
  diagnose [--timeout <ms>]            check PostgreSQL, Redis, NATS, JetStream, every service's
                                       gRPC health and each configured admin /readyz
  federation outbox [--dead <n>]       outbox rows per state and the newest dead letters
  call-simulate --audio <n> --video <m> [--seconds <s>] [--width <w> --height <h>] [--fps <f>]
                                       drive synthetic raw streams through the media service;
                                       prints latency p50/p99, real-time factor, drops and CPU
  smoke --gateway <https://host:port> [--ca <pem> | --insecure] [--timeout <ms>]
                                       two new devices sign up through the gateway and exchange a
                                       message (the Helm test; needs auto-approval on the server)

The directory, secrets and federation are reached at fleet.directory_addr /
fleet.secrets_addr / fleet.federation_addr (COMMUCAT_DIRECTORY_ADDR, COMMUCAT_SECRETS_ADDR,
COMMUCAT_FEDERATION_ADDR).

${COMMON}

${EXIT_CODES}
`;

const TOPICS: Record<string, string> = {
  migrate: `usage: commucat-cli migrate [--json]

Applies the SQL files of migrations/ (or $COMMUCAT_MIGRATIONS_DIR) that are not applied yet.
Output: the applied file names; --json: {"applied":[...]}.`,
  'register-user': `usage: commucat-cli register-user --handle <handle> [--display-name <name>] [--json]
       commucat-cli register-user <handle> [display_name]

Creates the user through the directory (RegisterUser). Output: user_id=, handle=, domain=,
display_name= lines; --json: the same fields as an object.`,
  devices: `usage: commucat-cli devices list --user <user_id> [--json]
       commucat-cli devices revoke <device_id> [--json]

list: a table of device_id, status, created_at, last_rotated_at, public_key (hex), oldest
first; --json: {"user_id", "devices":[...]}. Handles are not accepted (no directory lookup).
revoke: marks the device revoked, revokes its sessions and closes its connection; prints
device_id=, status=, sessions_revoked=.`,
  sessions: `usage: commucat-cli sessions revoke (--device <device_id> | --user <user_id>) [--json]

Revokes REST sessions (bearer tokens); prints the target and sessions_revoked=.`,
  'rotate-keys': `usage: commucat-cli rotate-keys --user <user_id> --out <file> [--device <id>] [--force] [--json]

Generates a random 32-byte seed and the Ed25519 device key derived from it, and has the fleet CA
(secrets) sign a 30-day certificate for (user, device). The device joins the user on its first
Hello with that certificate. Default device id: device-<unix ms>. An already registered device
id is refused: its key cannot be replaced from here; provision a new id and revoke the old one.
<file> gets {format, user_id, device_id, seed, private_key, public_key, certificate} as JSON,
mode 0600. stdout shows only public values: user_id, device_id, public_key, issuer_public,
certificate_serial, certificate_expires_at, key_file, certificate.`,
  federation: `usage: commucat-cli federation outbox [--dead <n>] [--json]

The federation outbox (events to peer domains): pending, in_flight, delivered and dead row
counts, then the newest <n> (default 20) dead letters — events a peer refused for good (4xx) or
that ran out of attempts — with outbox_id, peer, event_type, attempts and last_error.
--json: {"pending","in_flight","delivered","dead","dead_letters":[...]}.`,
  'call-simulate': `usage: commucat-cli call-simulate [--audio <n>] [--video <m>] [--seconds <s>]
                                   [--width <w> --height <h>] [--fps <f>] [--json]

Drives <n> audio and <m> video synthetic streams (one call each, at least one stream) through the
real media service over NATS (fleet.nats_url, fleet.nats_namespace), as a router would: waits up to
5 s for media replica heartbeats, puts each call on a replica by rendezvous hashing of its call id,
then sends raw frames in real time for <s> seconds (default 10) — a 440 Hz tone as 20 ms 48 kHz
mono s16le PCM (encoded to Opus), and a moving gradient as I420 at <w>x<h> (default 640x360,
even sizes, at most 1 MiB a frame) and <f> fps (default 30, 1-60) (encoded to VP8). Frames still
without an output 2 s after the last one count as dropped; each call is ended at the end.
Output: per kind the streams, frames sent, encoded, dropped (no output, refused included),
refused, per-frame latency p50/p99/max (send → encoded packet back), real-time factor (media
seconds encoded per wall second, all streams together: ≈ the stream count when the service keeps
up) and the mean bitrate per stream; per replica its calls, CPU during the run (heartbeat
cpu_seconds difference, % of one core), frames it dropped and its most active streams; then the
total media CPU and this CLI's own CPU. --json: {"seconds","elapsed_ms","video_shape","audio",
"video","refused_codes","replicas":[...],"media_cpu_percent","cli_cpu_percent"}.
Exit 1 when a simulated kind got no output at all or any frame was refused; 3 when NATS or every
media replica is unreachable.`,
  smoke: `usage: commucat-cli smoke --gateway <https://host:port> [--ca <pem file> | --insecure]
                          [--timeout <ms>] [--json]

End-to-end check of a deployment, as a client sees it: fetches /api/server-info, signs up two
new devices (handles smoke-<random>-a/-b) through the Noise XK handshake, joins both to one
random channel, sends a message from the first and waits for the second to receive exactly it,
then leaves. Needs the server to approve new devices automatically (auth auto-approval). Reads no
commucat.toml. --gateway defaults to $COMMUCAT_GATEWAY_URL; --timeout is per step (default
10000). Output: the steps with their durations; --json: {"ok","gateway","domain","channel",
"sender","receiver","steps":[{step,ms}]}. Exit 1 when a step failed (the message names it), 3
when the gateway could not be reached.`,
  diagnose: `usage: commucat-cli diagnose [--timeout <ms>] [--json]

Runs every check at once (default timeout 3000 ms each) and prints a table of component,
target, status, latency, detail. Admin /readyz endpoints are checked for the services whose
admin_bind is set explicitly (COMMUCAT_<NAME>_ADMIN_BIND or [services.<name>] in the file).
--json: {"ok": bool, "checks":[{component,target,status,latency_ms,detail}]}.
Exit 0 only when every check passes, 1 otherwise.`,
};

export function usageFor(topic: string | undefined): string {
  const text = topic !== undefined ? TOPICS[topic] : undefined;
  return text !== undefined ? `${text}\n\n${COMMON}\n\n${EXIT_CODES}\n` : USAGE;
}
