import { hostname } from 'node:os';
import {
  boolean,
  domainName,
  federationPeers,
  type FederationPeerConfig,
  type FieldType,
  hexAtLeast,
  hexBytes,
  hostPort,
  integer,
  nonEmptyString,
  oneOf,
  subjectToken,
  text,
  urlList,
  urlWithScheme,
} from './fields';

/*
 * Every configuration key of the fleet. Names and environment variables follow the reference
 * server (spec/rest-storage-ops.md §7) so existing deployments keep working; keys marked "new"
 * exist only in the fleet. The environment wins over commucat.toml when set and non-empty.
 *
 * | key                                         | env                                   | default                 | notes |
 * |---------------------------------------------|---------------------------------------|-------------------------|-------|
 * | server.bind                                 | COMMUCAT_BIND                         | 127.0.0.1:8443          | host:port of the gateway listener |
 * | server.tls_cert / server.tls_key            | COMMUCAT_TLS_CERT / COMMUCAT_TLS_KEY  | unset                   | PEM paths, both or neither; the gateway requires them |
 * | server.domain                               | COMMUCAT_DOMAIN                       | required                | domain name |
 * | server.auto_approve_devices                 | COMMUCAT_AUTO_APPROVE_DEVICES         | false                   | true/false only |
 * | server.max_auto_devices_per_user            | COMMUCAT_MAX_AUTO_DEVICES             | 1                       | ≥ 0, 0 = unlimited |
 * | server.keepalive                            | COMMUCAT_KEEPALIVE                    | 60                      | seconds, > 0 |
 * | server.session_ttl                          | COMMUCAT_SESSION_TTL                  | 3600                    | seconds, > 0 (new) |
 * | server.transport_encryption                 | COMMUCAT_TRANSPORT_ENCRYPTION         | optional                | optional / always / required |
 * | storage.postgres_dsn                        | COMMUCAT_PG_DSN                       | unset                   | secret |
 * | storage.redis_url                           | COMMUCAT_REDIS_URL                    | unset                   | redis:// rediss:// unix:// |
 * | storage.pg_pool_max                         | COMMUCAT_PG_POOL_MAX                  | 10                      | > 0 (new) |
 * | crypto.noise_private / crypto.noise_public  | COMMUCAT_NOISE_PRIVATE / _PUBLIC      | unset                   | hex32 each, both or neither, public must match private; private is secret |
 * | crypto.federation_seed                      | COMMUCAT_FEDERATION_SEED              | unset                   | hex, ≥ 32 bytes; secret |
 * | crypto.prologue                             | COMMUCAT_NOISE_PROLOGUE               | commucat                | Noise prologue string |
 * | crypto.secrets_kek                          | COMMUCAT_SECRETS_KEK                  | unset                   | hex32 key-encryption key for secrets at rest; secret (new) |
 * | federation.peers                            | COMMUCAT_FEDERATION_PEERS             | empty                   | [[federation.peers]] tables {domain, url, public_key}; env: JSON or `domain,url,pubkey;…` |
 * | federation.freshness_seconds                | COMMUCAT_FEDERATION_FRESHNESS_SECONDS | 300                     | inbound created_at window, > 0 (new) |
 * | federation.inbound_retention_seconds        | COMMUCAT_FEDERATION_INBOUND_RETENTION_SECONDS | 86400           | processed-id memory; raised to 2 × freshness if lower (new) |
 * | federation.max_attempts                     | COMMUCAT_FEDERATION_MAX_ATTEMPTS      | 12                      | sends before dead-letter, > 0 (new) |
 * | federation.backoff_base_ms / backoff_max_ms | COMMUCAT_FEDERATION_BACKOFF_BASE_MS / _MAX_MS | 1000 / 300000   | retry backoff with jitter (new) |
 * | federation.per_peer_concurrency             | COMMUCAT_FEDERATION_PER_PEER_CONCURRENCY | 4                    | in-flight events per peer, cluster-wide; 1 = strict order (new) |
 * | federation.dispatch_interval_ms             | COMMUCAT_FEDERATION_DISPATCH_INTERVAL_MS | 1000                 | outbox poll period (new) |
 * | federation.peer_ca                          | COMMUCAT_FEDERATION_PEER_CA           | unset (system CAs)      | PEM file trusted for peer TLS (new) |
 * | federation.tls_reject_unauthorized          | COMMUCAT_FEDERATION_TLS_REJECT_UNAUTHORIZED | true              | false only for tests (new) |
 * | admin.token                                 | COMMUCAT_ADMIN_TOKEN                  | unset                   | initial admin token; secret |
 * | limits.presence_ttl                         | COMMUCAT_PRESENCE_TTL                 | 30                      | seconds, > 0 |
 * | limits.relay_ttl                            | COMMUCAT_RELAY_TTL                    | 86400                   | seconds, > 0 |
 * | limits.pairing_ttl                          | COMMUCAT_PAIRING_TTL                  | 300                     | seconds, > 0 |
 * | calls.ring_timeout_seconds                  | COMMUCAT_CALL_RING_TIMEOUT_SECONDS    | 60                      | seconds a call may ring unanswered before it ends with reason timeout, > 0 (new) |
 * | calls.max_participants                      | COMMUCAT_CALL_MAX_PARTICIPANTS        | 16                      | devices in one call (offerer included), ≥ 2; a larger channel gets Error call_full (new) |
 * | media.opus_complexity                       | COMMUCAT_MEDIA_OPUS_COMPLEXITY        | 1                       | libopus complexity 0…10 of the PCM→Opus encoders; 1 carries ≥ 100 streams a core at p99 < 1 ms (new) |
 * | media.vp8_cpu_used                          | COMMUCAT_MEDIA_VP8_CPU_USED           | 15                      | libvpx cpu-used 0…16 of the I420→VP8 encoders; 15 carries ≥ 8 360p30 streams a core, lower looks better (new) |
 * | security.rotation.noise_interval_hours      | COMMUCAT_ROTATE_NOISE_INTERVAL_HOURS  | 168                     | > 0 |
 * | security.rotation.noise_grace_hours         | COMMUCAT_ROTATE_NOISE_GRACE_HOURS     | 48                      | ≥ 0 |
 * | security.rotation.noise_max_versions        | COMMUCAT_ROTATE_NOISE_MAX_VERSIONS    | 3                       | > 0 |
 * | security.rotation.admin_enabled             | COMMUCAT_ROTATE_ADMIN_ENABLED         | true iff admin.token    | |
 * | security.rotation.admin_interval_hours      | COMMUCAT_ROTATE_ADMIN_INTERVAL_HOURS  | 168                     | > 0 |
 * | security.rotation.admin_grace_hours         | COMMUCAT_ROTATE_ADMIN_GRACE_HOURS     | 72                      | ≥ 0 |
 * | security.rotation.admin_max_versions        | COMMUCAT_ROTATE_ADMIN_MAX_VERSIONS    | 2                       | > 0 |
 * | security.rotation.noise_enabled             | COMMUCAT_ROTATE_NOISE_ENABLED         | false                   | false: the first Noise key never rotates nor expires (the real client pins it) (new) |
 * | security.rotation.noise_interval_seconds    | COMMUCAT_ROTATE_NOISE_INTERVAL_SECONDS | unset                  | > 0; overrides noise_interval_hours (new) |
 * | security.rotation.noise_grace_seconds       | COMMUCAT_ROTATE_NOISE_GRACE_SECONDS   | unset                   | ≥ 0; overrides noise_grace_hours (new) |
 * | security.rotation.admin_interval_seconds    | COMMUCAT_ROTATE_ADMIN_INTERVAL_SECONDS | unset                  | > 0; overrides admin_interval_hours (new) |
 * | security.rotation.admin_grace_seconds       | COMMUCAT_ROTATE_ADMIN_GRACE_SECONDS   | unset                   | ≥ 0; overrides admin_grace_hours (new) |
 * | security.rotation.tick_seconds              | COMMUCAT_ROTATE_TICK_SECONDS          | 60                      | > 0; how often secrets checks for due rotations (new) |
 * | security.rotation.admin_token_file          | COMMUCAT_ADMIN_TOKEN_FILE             | unset                   | file (mode 0600) that receives each generated admin token (new) |
 * | ledger.mode                                 | COMMUCAT_LEDGER                       | null                    | null / file / debug |
 * | ledger.target                               | COMMUCAT_LEDGER_TARGET                | unset                   | file path; required for file |
 * | rotation.device.enabled                     | COMMUCAT_ROTATION_DEVICE_ENABLED      | true                    | POST /api/device/csr; false answers 404 |
 * | rotation.device.min_interval                | COMMUCAT_ROTATION_DEVICE_MIN_INTERVAL | 86400                   | seconds since the device's newest key event, ≥ 0 (0 = no limit) |
 * | rotation.device.proof_ttl                   | COMMUCAT_ROTATION_DEVICE_PROOF_TTL    | 600                     | seconds a rotation proof may reach ahead, > 0 |
 * | rotation.device.notify_channel              | COMMUCAT_ROTATION_DEVICE_NOTIFY_CHANNEL | 0                     | channel of the KEY_UPDATE frames, 0..2^32-1 |
 * | security.rate_limit.http_burst              | COMMUCAT_RATE_HTTP_BURST              | 60                      | > 0 |
 * | security.rate_limit.http_window_ms          | COMMUCAT_RATE_HTTP_WINDOW_MS          | 1000                    | > 0 |
 * | security.rate_limit.http_penalty_ms         | COMMUCAT_RATE_HTTP_PENALTY_MS         | 10000                   | ≥ 0 |
 * | security.rate_limit.connect_burst           | COMMUCAT_RATE_CONNECT_BURST           | 20                      | > 0 |
 * | security.rate_limit.connect_window_ms       | COMMUCAT_RATE_CONNECT_WINDOW_MS       | 1000                    | > 0 |
 * | security.rate_limit.connect_penalty_ms      | COMMUCAT_RATE_CONNECT_PENALTY_MS      | 30000                   | ≥ 0 |
 * | security.rate_limit.frame_rate              | COMMUCAT_RATE_FRAME_RATE              | 200                     | frames/s per connection after the handshake (new) |
 * | security.rate_limit.frame_burst             | COMMUCAT_RATE_FRAME_BURST             | 400                     | token bucket size (new) |
 * | security.rate_limit.pairing_burst           | COMMUCAT_RATE_PAIRING_BURST           | 5                       | > 0 |
 * | security.rate_limit.pairing_window_ms       | COMMUCAT_RATE_PAIRING_WINDOW_MS       | 60000                   | > 0 |
 * | security.rate_limit.pairing_penalty_ms      | COMMUCAT_RATE_PAIRING_PENALTY_MS      | 120000                  | ≥ 0 |
 * | fleet.nats_url                              | COMMUCAT_NATS_URL                     | nats://127.0.0.1:4222   | comma list of nats:// tls:// ws:// wss:// (new) |
 * | fleet.gateway_id                            | COMMUCAT_GATEWAY_ID                   | <hostname>-<pid>        | [A-Za-z0-9_-]; part of NATS subjects (new) |
 * | fleet.media_replica_id                      | COMMUCAT_MEDIA_REPLICA_ID             | <hostname>-<pid>        | [A-Za-z0-9_-]; the media replica's input subject (new) |
 * | fleet.nats_namespace                        | COMMUCAT_NATS_NAMESPACE               | unset                   | [A-Za-z0-9_-]; prefixes every NATS subject (new) |
 * | fleet.nats_user                             | COMMUCAT_NATS_USER                    | unset                   | NATS user; needs nats_password (new) |
 * | fleet.nats_password                         | COMMUCAT_NATS_PASSWORD                | unset                   | secret; needs nats_user (new) |
 * | fleet.nats_token                            | COMMUCAT_NATS_TOKEN                   | unset                   | secret; NATS token auth, not with nats_user (new) |
 * | fleet.secrets_addr                          | COMMUCAT_SECRETS_ADDR                 | 127.0.0.1:7101          | gRPC address of secrets (new) |
 * | fleet.directory_addr                        | COMMUCAT_DIRECTORY_ADDR               | 127.0.0.1:7102          | (new) |
 * | fleet.presence_addr                         | COMMUCAT_PRESENCE_ADDR                | 127.0.0.1:7103          | (new) |
 * | fleet.router_addr                           | COMMUCAT_ROUTER_ADDR                  | 127.0.0.1:7104          | (new) |
 * | fleet.relay_addr                            | COMMUCAT_RELAY_ADDR                   | 127.0.0.1:7105          | (new) |
 * | fleet.media_addr                            | COMMUCAT_MEDIA_ADDR                   | 127.0.0.1:7106          | gRPC (health) of a media replica, for diagnose (new) |
 * | fleet.federation_addr                       | COMMUCAT_FEDERATION_ADDR              | 127.0.0.1:7107          | (new) |
 * | services.<name>.grpc_bind                   | COMMUCAT_<NAME>_GRPC_BIND             | 127.0.0.1:71xx          | gateway: unset (no gRPC server) (new) |
 * | services.<name>.admin_bind                  | COMMUCAT_<NAME>_ADMIN_BIND            | 127.0.0.1:91xx          | /healthz /readyz /metrics (new) |
 * |   names and ports: gateway -/9100, secrets 7101/9101, directory 7102/9102, presence 7103/9103,
 * |   router 7104/9104, relay 7105/9105, media 7106/9106, federation 7107/9107
 * | telemetry.log_level                         | COMMUCAT_LOG_LEVEL                    | info                    | fatal error warn info debug trace silent (new) |
 * | telemetry.otlp_endpoint                     | COMMUCAT_OTLP_ENDPOINT                | unset                   | OTLP/HTTP collector, base URL (/v1/traces appended) or full traces URL; falls back to OTEL_EXPORTER_OTLP_ENDPOINT; unset: no export (new) |
 * |   standard OpenTelemetry variables, read by @commucat/telemetry and the OTel SDK (precedence in
 * |   libs/telemetry/src/export-settings.ts):
 * |   OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none: no export (spans still give logs trace ids);
 * |   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: full traces URL, wins over telemetry.otlp_endpoint;
 * |   OTEL_EXPORTER_OTLP_HEADERS / _TRACES_HEADERS (key=value,…), _TIMEOUT, _COMPRESSION: exporter settings
 * |   (the exporter speaks OTLP/HTTP with JSON bodies; OTEL_EXPORTER_OTLP_PROTOCOL is not consulted);
 * |   OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG: sampler (default parentbased_always_on);
 * |   OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_QUEUE_SIZE: batching;
 * |   OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES: override service.name (default: the fleet service) and add resource attributes.
 *
 * The path of the file itself comes from COMMUCAT_CONFIG (default ./commucat.toml).
 */

export interface KeyDef<T> {
  readonly env: string;
  readonly type: FieldType<T>;
  /** A value, or a function for defaults that depend on the host. Absent = unset. */
  readonly default?: T | (() => T);
  /** Secret values are never echoed in error messages. */
  readonly secret?: boolean;
  /** Consulted when `env` is unset, before the file (e.g. the standard OTel variable). */
  readonly fallbackEnv?: string;
}

function key<T>(env: string, type: FieldType<T>, extra: Omit<KeyDef<T>, 'env' | 'type'> = {}): KeyDef<T> {
  return { env, type, ...extra };
}

export const SERVICE_NAMES = [
  'gateway',
  'secrets',
  'directory',
  'presence',
  'router',
  'relay',
  'media',
  'federation',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const TRANSPORT_ENCRYPTION_MODES = ['optional', 'always', 'required'] as const;
export type TransportEncryption = (typeof TRANSPORT_ENCRYPTION_MODES)[number];

export const LEDGER_MODES = ['null', 'file', 'debug'] as const;
export type LedgerMode = (typeof LEDGER_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Host names may contain dots, which would split a NATS subject token; replace them.
function hostAndPid(fallbackHost: string): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100) || fallbackHost;
  return `${host}-${process.pid}`;
}
const defaultGatewayId = (): string => hostAndPid('gateway');
const defaultMediaReplicaId = (): string => hostAndPid('media');

const positive = () => integer({ min: 1 });
const nonNegative = () => integer({ min: 0 });
const loopback = (port: number) => `127.0.0.1:${port}`;

export const CONFIG_KEYS = {
  'server.bind': key('COMMUCAT_BIND', hostPort(), { default: loopback(8443) }),
  'server.tls_cert': key('COMMUCAT_TLS_CERT', nonEmptyString('a file path')),
  'server.tls_key': key('COMMUCAT_TLS_KEY', nonEmptyString('a file path')),
  'server.domain': key('COMMUCAT_DOMAIN', domainName()),
  'server.auto_approve_devices': key('COMMUCAT_AUTO_APPROVE_DEVICES', boolean(), { default: false }),
  'server.max_auto_devices_per_user': key('COMMUCAT_MAX_AUTO_DEVICES', nonNegative(), { default: 1 }),
  'server.keepalive': key('COMMUCAT_KEEPALIVE', positive(), { default: 60 }),
  'server.session_ttl': key('COMMUCAT_SESSION_TTL', positive(), { default: 3600 }),
  'server.transport_encryption': key('COMMUCAT_TRANSPORT_ENCRYPTION', oneOf(TRANSPORT_ENCRYPTION_MODES), {
    default: 'optional',
  }),

  'storage.postgres_dsn': key('COMMUCAT_PG_DSN', nonEmptyString('a PostgreSQL connection string'), { secret: true }),
  'storage.redis_url': key('COMMUCAT_REDIS_URL', urlWithScheme(['redis', 'rediss', 'unix'])),
  'storage.pg_pool_max': key('COMMUCAT_PG_POOL_MAX', positive(), { default: 10 }),

  'crypto.noise_private': key('COMMUCAT_NOISE_PRIVATE', hexBytes(32), { secret: true }),
  'crypto.noise_public': key('COMMUCAT_NOISE_PUBLIC', hexBytes(32)),
  'crypto.federation_seed': key('COMMUCAT_FEDERATION_SEED', hexAtLeast(32), { secret: true }),
  'crypto.prologue': key('COMMUCAT_NOISE_PROLOGUE', text(), { default: 'commucat' }),
  'crypto.secrets_kek': key('COMMUCAT_SECRETS_KEK', hexBytes(32), { secret: true }),

  'federation.peers': key('COMMUCAT_FEDERATION_PEERS', federationPeers(), { default: [] as readonly FederationPeerConfig[] }),
  'federation.freshness_seconds': key('COMMUCAT_FEDERATION_FRESHNESS_SECONDS', positive(), { default: 300 }),
  'federation.inbound_retention_seconds': key('COMMUCAT_FEDERATION_INBOUND_RETENTION_SECONDS', positive(), { default: 86400 }),
  'federation.max_attempts': key('COMMUCAT_FEDERATION_MAX_ATTEMPTS', positive(), { default: 12 }),
  'federation.backoff_base_ms': key('COMMUCAT_FEDERATION_BACKOFF_BASE_MS', positive(), { default: 1000 }),
  'federation.backoff_max_ms': key('COMMUCAT_FEDERATION_BACKOFF_MAX_MS', positive(), { default: 300000 }),
  'federation.per_peer_concurrency': key('COMMUCAT_FEDERATION_PER_PEER_CONCURRENCY', positive(), { default: 4 }),
  'federation.dispatch_interval_ms': key('COMMUCAT_FEDERATION_DISPATCH_INTERVAL_MS', positive(), { default: 1000 }),
  'federation.peer_ca': key('COMMUCAT_FEDERATION_PEER_CA', nonEmptyString('a file path')),
  'federation.tls_reject_unauthorized': key('COMMUCAT_FEDERATION_TLS_REJECT_UNAUTHORIZED', boolean(), { default: true }),

  'admin.token': key('COMMUCAT_ADMIN_TOKEN', nonEmptyString(), { secret: true }),

  'limits.presence_ttl': key('COMMUCAT_PRESENCE_TTL', positive(), { default: 30 }),
  'limits.relay_ttl': key('COMMUCAT_RELAY_TTL', positive(), { default: 86400 }),
  'limits.pairing_ttl': key('COMMUCAT_PAIRING_TTL', positive(), { default: 300 }),

  'calls.ring_timeout_seconds': key('COMMUCAT_CALL_RING_TIMEOUT_SECONDS', positive(), { default: 60 }),
  'calls.max_participants': key('COMMUCAT_CALL_MAX_PARTICIPANTS', integer({ min: 2 }), { default: 16 }),
  'media.opus_complexity': key('COMMUCAT_MEDIA_OPUS_COMPLEXITY', integer({ min: 0, max: 10 }), { default: 1 }),
  'media.vp8_cpu_used': key('COMMUCAT_MEDIA_VP8_CPU_USED', integer({ min: 0, max: 16 }), { default: 15 }),

  'security.rotation.noise_interval_hours': key('COMMUCAT_ROTATE_NOISE_INTERVAL_HOURS', positive(), { default: 168 }),
  'security.rotation.noise_grace_hours': key('COMMUCAT_ROTATE_NOISE_GRACE_HOURS', nonNegative(), { default: 48 }),
  'security.rotation.noise_max_versions': key('COMMUCAT_ROTATE_NOISE_MAX_VERSIONS', positive(), { default: 3 }),
  // No default here: it follows admin.token (resolved in load.ts).
  'security.rotation.admin_enabled': key('COMMUCAT_ROTATE_ADMIN_ENABLED', boolean()),
  'security.rotation.admin_interval_hours': key('COMMUCAT_ROTATE_ADMIN_INTERVAL_HOURS', positive(), { default: 168 }),
  'security.rotation.admin_grace_hours': key('COMMUCAT_ROTATE_ADMIN_GRACE_HOURS', nonNegative(), { default: 72 }),
  'security.rotation.admin_max_versions': key('COMMUCAT_ROTATE_ADMIN_MAX_VERSIONS', positive(), { default: 2 }),
  // Off by default: the real client stores the server key once and never refreshes it.
  'security.rotation.noise_enabled': key('COMMUCAT_ROTATE_NOISE_ENABLED', boolean(), { default: false }),
  'security.rotation.noise_interval_seconds': key('COMMUCAT_ROTATE_NOISE_INTERVAL_SECONDS', positive()),
  'security.rotation.noise_grace_seconds': key('COMMUCAT_ROTATE_NOISE_GRACE_SECONDS', nonNegative()),
  'security.rotation.admin_interval_seconds': key('COMMUCAT_ROTATE_ADMIN_INTERVAL_SECONDS', positive()),
  'security.rotation.admin_grace_seconds': key('COMMUCAT_ROTATE_ADMIN_GRACE_SECONDS', nonNegative()),
  'security.rotation.tick_seconds': key('COMMUCAT_ROTATE_TICK_SECONDS', positive(), { default: 60 }),
  'security.rotation.admin_token_file': key('COMMUCAT_ADMIN_TOKEN_FILE', nonEmptyString('a file path')),

  'ledger.mode': key('COMMUCAT_LEDGER', oneOf(LEDGER_MODES), { default: 'null' }),
  'ledger.target': key('COMMUCAT_LEDGER_TARGET', nonEmptyString('a file path')),

  'rotation.device.enabled': key('COMMUCAT_ROTATION_DEVICE_ENABLED', boolean(), { default: true }),
  'rotation.device.min_interval': key('COMMUCAT_ROTATION_DEVICE_MIN_INTERVAL', nonNegative(), { default: 86400 }),
  'rotation.device.proof_ttl': key('COMMUCAT_ROTATION_DEVICE_PROOF_TTL', positive(), { default: 600 }),
  // A CCP-1 channel id is a u32 varint.
  'rotation.device.notify_channel': key('COMMUCAT_ROTATION_DEVICE_NOTIFY_CHANNEL', integer({ min: 0, max: 0xffff_ffff }), { default: 0 }),

  'security.rate_limit.http_burst': key('COMMUCAT_RATE_HTTP_BURST', positive(), { default: 60 }),
  'security.rate_limit.http_window_ms': key('COMMUCAT_RATE_HTTP_WINDOW_MS', positive(), { default: 1000 }),
  'security.rate_limit.http_penalty_ms': key('COMMUCAT_RATE_HTTP_PENALTY_MS', nonNegative(), { default: 10000 }),
  'security.rate_limit.connect_burst': key('COMMUCAT_RATE_CONNECT_BURST', positive(), { default: 20 }),
  'security.rate_limit.connect_window_ms': key('COMMUCAT_RATE_CONNECT_WINDOW_MS', positive(), { default: 1000 }),
  'security.rate_limit.connect_penalty_ms': key('COMMUCAT_RATE_CONNECT_PENALTY_MS', nonNegative(), { default: 30000 }),
  'security.rate_limit.frame_rate': key('COMMUCAT_RATE_FRAME_RATE', positive(), { default: 200 }),
  'security.rate_limit.frame_burst': key('COMMUCAT_RATE_FRAME_BURST', positive(), { default: 400 }),
  'security.rate_limit.pairing_burst': key('COMMUCAT_RATE_PAIRING_BURST', positive(), { default: 5 }),
  'security.rate_limit.pairing_window_ms': key('COMMUCAT_RATE_PAIRING_WINDOW_MS', positive(), { default: 60000 }),
  'security.rate_limit.pairing_penalty_ms': key('COMMUCAT_RATE_PAIRING_PENALTY_MS', nonNegative(), { default: 120000 }),

  'fleet.nats_url': key('COMMUCAT_NATS_URL', urlList(['nats', 'tls', 'ws', 'wss']), { default: 'nats://127.0.0.1:4222' }),
  'fleet.gateway_id': key('COMMUCAT_GATEWAY_ID', subjectToken(), { default: defaultGatewayId }),
  'fleet.media_replica_id': key('COMMUCAT_MEDIA_REPLICA_ID', subjectToken(), { default: defaultMediaReplicaId }),
  'fleet.nats_namespace': key('COMMUCAT_NATS_NAMESPACE', subjectToken()),
  'fleet.nats_user': key('COMMUCAT_NATS_USER', nonEmptyString()),
  'fleet.nats_password': key('COMMUCAT_NATS_PASSWORD', nonEmptyString(), { secret: true }),
  'fleet.nats_token': key('COMMUCAT_NATS_TOKEN', nonEmptyString(), { secret: true }),
  'fleet.secrets_addr': key('COMMUCAT_SECRETS_ADDR', hostPort(), { default: loopback(7101) }),
  'fleet.directory_addr': key('COMMUCAT_DIRECTORY_ADDR', hostPort(), { default: loopback(7102) }),
  'fleet.presence_addr': key('COMMUCAT_PRESENCE_ADDR', hostPort(), { default: loopback(7103) }),
  'fleet.router_addr': key('COMMUCAT_ROUTER_ADDR', hostPort(), { default: loopback(7104) }),
  'fleet.relay_addr': key('COMMUCAT_RELAY_ADDR', hostPort(), { default: loopback(7105) }),
  'fleet.media_addr': key('COMMUCAT_MEDIA_ADDR', hostPort(), { default: loopback(7106) }),
  'fleet.federation_addr': key('COMMUCAT_FEDERATION_ADDR', hostPort(), { default: loopback(7107) }),

  'services.gateway.grpc_bind': key('COMMUCAT_GATEWAY_GRPC_BIND', hostPort()),
  'services.gateway.admin_bind': key('COMMUCAT_GATEWAY_ADMIN_BIND', hostPort(), { default: loopback(9100) }),
  'services.secrets.grpc_bind': key('COMMUCAT_SECRETS_GRPC_BIND', hostPort(), { default: loopback(7101) }),
  'services.secrets.admin_bind': key('COMMUCAT_SECRETS_ADMIN_BIND', hostPort(), { default: loopback(9101) }),
  'services.directory.grpc_bind': key('COMMUCAT_DIRECTORY_GRPC_BIND', hostPort(), { default: loopback(7102) }),
  'services.directory.admin_bind': key('COMMUCAT_DIRECTORY_ADMIN_BIND', hostPort(), { default: loopback(9102) }),
  'services.presence.grpc_bind': key('COMMUCAT_PRESENCE_GRPC_BIND', hostPort(), { default: loopback(7103) }),
  'services.presence.admin_bind': key('COMMUCAT_PRESENCE_ADMIN_BIND', hostPort(), { default: loopback(9103) }),
  'services.router.grpc_bind': key('COMMUCAT_ROUTER_GRPC_BIND', hostPort(), { default: loopback(7104) }),
  'services.router.admin_bind': key('COMMUCAT_ROUTER_ADMIN_BIND', hostPort(), { default: loopback(9104) }),
  'services.relay.grpc_bind': key('COMMUCAT_RELAY_GRPC_BIND', hostPort(), { default: loopback(7105) }),
  'services.relay.admin_bind': key('COMMUCAT_RELAY_ADMIN_BIND', hostPort(), { default: loopback(9105) }),
  'services.media.grpc_bind': key('COMMUCAT_MEDIA_GRPC_BIND', hostPort(), { default: loopback(7106) }),
  'services.media.admin_bind': key('COMMUCAT_MEDIA_ADMIN_BIND', hostPort(), { default: loopback(9106) }),
  'services.federation.grpc_bind': key('COMMUCAT_FEDERATION_GRPC_BIND', hostPort(), { default: loopback(7107) }),
  'services.federation.admin_bind': key('COMMUCAT_FEDERATION_ADMIN_BIND', hostPort(), { default: loopback(9107) }),

  'telemetry.log_level': key('COMMUCAT_LOG_LEVEL', oneOf(LOG_LEVELS), { default: 'info' }),
  'telemetry.otlp_endpoint': key('COMMUCAT_OTLP_ENDPOINT', urlWithScheme(['http', 'https']), {
    fallbackEnv: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  }),
} satisfies Record<string, KeyDef<unknown>>;

/** Dotted name of a config key, e.g. `server.tls_cert`. */
export type ConfigKey = keyof typeof CONFIG_KEYS;

/** Keys every process needs, whatever its role. */
export const ALWAYS_REQUIRED: readonly ConfigKey[] = ['server.domain'];

export interface ServiceBinds {
  readonly grpcBind: string;
  readonly adminBind: string;
}

/** The gateway serves no gRPC, so its grpc_bind is optional. */
export interface GatewayBinds {
  readonly grpcBind?: string;
  readonly adminBind: string;
}

/** The loaded configuration; every key of the table above, camelCased and nested. */
export interface CommucatConfig {
  readonly server: {
    readonly bind: string;
    readonly tlsCert?: string;
    readonly tlsKey?: string;
    readonly domain: string;
    readonly autoApproveDevices: boolean;
    readonly maxAutoDevicesPerUser: number;
    readonly keepalive: number;
    readonly sessionTtl: number;
    readonly transportEncryption: TransportEncryption;
  };
  readonly storage: {
    readonly postgresDsn?: string;
    readonly redisUrl?: string;
    readonly pgPoolMax: number;
  };
  readonly crypto: {
    readonly noisePrivate?: string;
    readonly noisePublic?: string;
    readonly federationSeed?: string;
    readonly prologue: string;
    readonly secretsKek?: string;
  };
  /** Server-to-server federation (spec rest-storage-ops §5). */
  readonly federation: {
    readonly peers: readonly FederationPeerConfig[];
    readonly freshnessSeconds: number;
    readonly inboundRetentionSeconds: number;
    readonly maxAttempts: number;
    readonly backoffBaseMs: number;
    readonly backoffMaxMs: number;
    readonly perPeerConcurrency: number;
    readonly dispatchIntervalMs: number;
    readonly peerCa?: string;
    readonly tlsRejectUnauthorized: boolean;
  };
  readonly admin: { readonly token?: string };
  /** Audit ledger (spec rest-storage-ops §6). */
  readonly ledger: { readonly mode: LedgerMode; readonly target?: string };
  readonly limits: {
    readonly presenceTtl: number;
    readonly relayTtl: number;
    readonly pairingTtl: number;
  };
  /** Call signalling in the router (spec calls-media §3). */
  readonly calls: {
    /** Seconds an offer rings before an unanswered call ends (reason timeout). */
    readonly ringTimeoutSeconds: number;
    /** Most devices in one call, the offerer included. */
    readonly maxParticipants: number;
  };  readonly media: {
    /** libopus complexity of the PCM→Opus encoders. */
    readonly opusComplexity: number;
    /** libvpx cpu-used of the I420→VP8 encoders. */
    readonly vp8CpuUsed: number;
  };

  readonly security: {
    readonly rotation: {
      readonly noiseIntervalHours: number;
      readonly noiseGraceHours: number;
      readonly noiseMaxVersions: number;
      readonly adminEnabled: boolean;
      readonly adminIntervalHours: number;
      readonly adminGraceHours: number;
      readonly adminMaxVersions: number;
      readonly noiseEnabled: boolean;
      readonly noiseIntervalSeconds?: number;
      readonly noiseGraceSeconds?: number;
      readonly adminIntervalSeconds?: number;
      readonly adminGraceSeconds?: number;
      readonly tickSeconds: number;
      readonly adminTokenFile?: string;
    };
    readonly rateLimit: {
      readonly httpBurst: number;
      readonly httpWindowMs: number;
      readonly httpPenaltyMs: number;
      readonly connectBurst: number;
      readonly connectWindowMs: number;
      readonly connectPenaltyMs: number;
      /** Post-handshake frames per second one connection may send (token bucket refill). */
      readonly frameRate: number;
      readonly frameBurst: number;
      readonly pairingBurst: number;
      readonly pairingWindowMs: number;
      readonly pairingPenaltyMs: number;
    };
  };
  /** Device key rotation over REST (spec rest-storage-ops §4). */
  readonly rotation: {
    readonly device: {
      readonly enabled: boolean;
      /** Seconds; 0 = a device may rotate again at once. */
      readonly minInterval: number;
      /** Seconds a proof's expires_at may lie ahead of now. */
      readonly proofTtl: number;
      /** Channel id of the KEY_UPDATE frames. */
      readonly notifyChannel: number;
    };
  };
  readonly fleet: {
    readonly natsUrl: string;
    /** Prefix of every NATS subject, so fleets can share one NATS server; unset: none. */
    readonly natsNamespace?: string;
    /** NATS user/password authentication (both or neither). */
    readonly natsUser?: string;
    readonly natsPassword?: string;
    /** NATS token authentication (instead of a user). */
    readonly natsToken?: string;
    readonly gatewayId: string;
    /** This media replica's id: its input subject token and heartbeat id. */
    readonly mediaReplicaId: string;
    readonly secretsAddr: string;
    readonly directoryAddr: string;
    readonly presenceAddr: string;
    readonly routerAddr: string;
    readonly relayAddr: string;
    /** gRPC address of a media replica (only its health service; diagnose checks it). */
    readonly mediaAddr: string;
    readonly federationAddr: string;
  };
  readonly services: { readonly gateway: GatewayBinds } & {
    readonly [N in Exclude<ServiceName, 'gateway'>]: ServiceBinds;
  };
  readonly telemetry: {
    readonly logLevel: LogLevel;
    readonly otlpEndpoint?: string;
  };
  /** The file that was read, or undefined when none existed at the default path. */
  readonly configPath?: string;
  /** Non-fatal findings, e.g. unknown keys in the file; log them once the logger exists. */
  readonly warnings: readonly string[];
}
