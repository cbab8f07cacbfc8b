import { z } from 'zod';

/**
 * The one place request and response bodies are defined. Handlers validate requests with these
 * schemas, and /openapi.json is generated from the same objects (see openapi.ts), so the
 * document cannot drift from what is enforced. Every schema with an `id` becomes a component.
 */
export const restSchemas = z.registry<{ id: string; description?: string }>();

const named = <T extends z.ZodType>(id: string, schema: T, description?: string): T => {
  restSchemas.add(schema, description === undefined ? { id } : { id, description });
  return schema;
};

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes * 2} lowercase hex characters`);
/** Requests may use either case; responses are always lowercase. */
const hexIn = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `${bytes * 2} hex characters`);
const timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/).describe('RFC 3339 UTC');
/** Optional in the schema, and `null` means "not given" (the real client serialises unset fields as null). */
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

// ---- shared response parts ----

export const Problem = named('Problem', z.strictObject({
  type: z.string().describe('https://commucat.dev/problems/<code>'),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
}), 'RFC 9457 problem document');

export const UserSummary = named('UserSummary', z.strictObject({
  user_id: z.string(),
  handle: z.string(),
  display_name: z.string().nullable(),
  avatar_url: z.string().nullable(),
}));

export const ClaimedUser = named('ClaimedUser', z.strictObject({
  id: z.string(),
  user_id: z.string(),
  handle: z.string(),
  display_name: z.string().nullable(),
  avatar_url: z.string().nullable(),
}));

export const Device = named('Device', z.strictObject({
  device_id: z.string(),
  status: z.string().describe('active | revoked | diagnostic'),
  created_at: timestamp,
  public_key: hex(32),
  current: z.boolean(),
}));

export const FriendDevice = named('FriendDevice', z.strictObject({
  device_id: z.string(),
  public_key: hex(32),
  status: z.string(),
  created_at: timestamp,
  last_rotated_at: timestamp.optional(),
}));

export const FriendEntryOut = named('FriendEntry', z.strictObject({
  user_id: z.string(),
  alias: z.string().optional(),
  handle: z.string().optional(),
}));

export const FriendListResponse = named('FriendList', z.strictObject({
  friends: z.array(FriendEntryOut),
  devices: z.record(z.string(), z.array(FriendDevice)).describe('one key per friend; devices only for mutual friends'),
}));

export const FriendRequestOut = named('FriendRequest', z.strictObject({
  id: z.string(),
  from_user_id: z.string(),
  to_user_id: z.string(),
  status: z.string().describe('pending | accepted | rejected'),
  message: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
}));

export const SecuritySnapshot = named('SecuritySnapshot', z.strictObject({
  noise_handshakes: z.int().nonnegative(),
  pq_handshakes: z.int().nonnegative(),
  fec_packets: z.int().nonnegative(),
  multipath_sessions: z.int().nonnegative(),
  average_paths: z.number(),
  censorship_deflections: z.int().nonnegative(),
}));

export const DeviceCertificateJson = named('DeviceCertificate', z.strictObject({
  serial: z.union([z.int(), z.string()]).describe('unsigned 64-bit; emitted as a bare JSON number that may exceed 2^53'),
  user_id: z.string(),
  device_id: z.string(),
  public_key: hex(32),
  issuer: hex(32),
  issued_at: z.int(),
  expires_at: z.int(),
  signature: hex(64),
}));

// ---- probes and server info ----

export const HealthResponse = named('Health', z.strictObject({ status: z.literal('ok') }));
export const ReadyResponse = named('Ready', z.strictObject({ status: z.enum(['ready', 'degraded']) }));

const NoiseKeyJson = z.strictObject({ version: z.int(), public: hex(32), valid_after: timestamp.nullable(), rotates_at: timestamp.nullable(), expires_at: timestamp.nullable() });
export const ServerInfoResponse = named('ServerInfo', z.strictObject({
  domain: z.string(),
  noise_public: hex(32).nullable(),
  noise_keys: z.array(NoiseKeyJson),
  device_ca_public: hex(32),
  supported_patterns: z.array(z.string()),
  supported_versions: z.array(z.int()),
  session: z.strictObject({ ttl_seconds: z.int(), keepalive_interval: z.int() }),
  presence: z.strictObject({ ttl_seconds: z.int() }),
  device_rotation: z.strictObject({ enabled: z.boolean(), min_interval_seconds: z.int(), proof_ttl_seconds: z.int() }),
  pairing: z.strictObject({ auto_approve: z.boolean(), pairing_ttl: z.int(), max_auto_devices: z.int() }),
  post_quantum: z.strictObject({ enabled: z.boolean(), kem_algorithm: z.string().nullable(), signature_algorithm: z.string().nullable(), kem_public_hex: z.string().nullable() }),
}));

// ---- pairing ----

export const CreatePairingRequest = named('CreatePairingRequest', z.strictObject({
  ttl: nullable(z.int().min(1).max(86_400)).describe('seconds; clamped to [60, min(limits.pairing_ttl, 3600)]'),
}));

export const CreatePairingResponse = named('PairingCode', z.strictObject({
  pair_code: z.string().regex(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/),
  issued_at: timestamp,
  expires_at: timestamp,
  ttl: z.int(),
  device_seed: hex(32).describe('fresh random seed the claiming device may use; never stored'),
  issuer_device_id: z.string(),
  device_ca_public: hex(32),
}));

export const ClaimPairingRequest = named('ClaimPairingRequest', z.strictObject({
  pair_code: z.string().min(1).max(32),
  device_name: nullable(z.string().max(128)),
  device_public: hexIn(32).optional().describe('client-generated Ed25519 public key (with device_signature)'),
  device_signature: hexIn(64).optional().describe('Ed25519 over "commucat-pair-claim:" || XXXX-XXXX || device_public'),
}).superRefine((body, ctx) => {
  if ((body.device_public === undefined) !== (body.device_signature === undefined)) {
    ctx.addIssue({ code: 'custom', path: [body.device_public === undefined ? 'device_public' : 'device_signature'], message: 'device_public and device_signature go together' });
  }
}));

export const ClaimPairingResponse = named('ClaimedDevice', z.strictObject({
  device_id: z.string(),
  private_key: hex(32).optional().describe('only when the server generated the key'),
  public_key: hex(32),
  seed: hex(32).optional().describe('only when the server generated the key; private_key = BLAKE3(seed)'),
  issuer_device_id: z.string(),
  user_id: z.string(),
  user: ClaimedUser,
  device_certificate: DeviceCertificateJson,
  device_ca_public: hex(32),
  device_name: z.string().optional(),
}));

// ---- devices ----

export const DeviceListResponse = named('DeviceList', z.strictObject({ devices: z.array(Device) }));
export const RevokeDeviceRequest = named('RevokeDeviceRequest', z.strictObject({ device_id: z.string().max(256) }));
export const RevokeDeviceResponse = named('RevokedDevice', z.strictObject({ device_id: z.string(), status: z.literal('revoked') }));

// ---- device key rotation ----

export const DeviceRotationRequest = named('DeviceRotationRequest', z.strictObject({
  public_key: hexIn(32).describe('the new Ed25519 public key'),
  signature: hexIn(64).describe('Ed25519 by the CURRENT key over BLAKE3("commucat:device-rotation:v1" || device_id || public_key || expires_at (UNIX seconds, i64 big-endian) || nonce)'),
  expires_at: timestamp.describe('RFC 3339; the proof is valid until then (at most rotation.device.proof_ttl ahead); fractions of a second are dropped before signing'),
  nonce: nullable(z.string().regex(/^(?:[0-9a-fA-F]{2}){8,}$/, 'hex of at least 8 bytes').max(512)),
}));

export const DeviceRotationResponse = named('DeviceRotation', z.strictObject({
  device_id: z.string(),
  user_id: z.string(),
  public_key: hex(32),
  old_public_key: hex(32),
  rotation_id: z.string(),
  event_id: z.string(),
  applied_at: timestamp,
  proof_expires_at: timestamp,
  certificate: DeviceCertificateJson,
}));

// ---- friends ----

export const PutFriendsRequest = named('PutFriendsRequest', z.strictObject({
  friends: z.array(z.strictObject({
    user_id: z.string().max(256),
    handle: nullable(z.string().max(256)).describe('accepted and ignored (the real client always sends it)'),
    alias: nullable(z.string().max(256)),
  })).max(512),
}));

export const FriendDevicesResponse = named('FriendDevicesOf', z.strictObject({ friend: z.string(), devices: z.array(FriendDevice) }));
export const FriendRequestListResponse = named('FriendRequestList', z.strictObject({ incoming: z.array(FriendRequestOut), outgoing: z.array(FriendRequestOut) }));
export const CreateFriendRequestRequest = named('CreateFriendRequestRequest', z.strictObject({ message: nullable(z.string().max(1024)) }));
export const CreatedFriendRequestResponse = named('CreatedFriendRequest', z.strictObject({ request: FriendRequestOut, to_user: UserSummary }));
export const FederatedFriendRequestOut = named('FederatedFriendRequest', z.strictObject({
  id: z.string(),
  from: z.string().describe('the caller as handle@this-domain'),
  to: z.string().describe('handle@domain, the domain lowercased'),
  status: z.literal('pending'),
  message: z.string().nullable(),
  created_at: timestamp,
}));
export const QueuedFederatedFriendRequestResponse = named('QueuedFederatedFriendRequest', z.strictObject({
  request: FederatedFriendRequestOut,
  federation: z.strictObject({ domain: z.string(), status: z.literal('queued') }),
}), 'a request to a user of another domain, queued for that domain');
export const AnsweredFriendRequestResponse = named('AnsweredFriendRequest', z.strictObject({ request: FriendRequestOut, from_user: UserSummary }));

// ---- avatar ----

export const AvatarResponse = named('Avatar', z.strictObject({ avatar_url: z.string(), filename: z.string() }));

// ---- p2p assist ----

export const PathHint = named('PathHint', z.strictObject({
  address: z.string({ error: (issue) => (issue.input === null || issue.input === undefined ? 'address is required' : 'expected a string') }).min(1).max(255),
  id: nullable(z.string().min(1).max(64)),
  port: nullable(z.int().min(1).max(65_535)),
  server_name: nullable(z.string().max(255)),
  priority: nullable(z.int().min(0).max(255)),
  reality_fingerprint: nullable(hexIn(32)),
  reality_pem: nullable(z.string().max(16_384)),
}));

export const P2pAssistRequest = named('P2pAssistRequest', z.strictObject({
  peer_hint: nullable(z.string().max(255)),
  paths: nullable(z.array(PathHint).max(16)),
  prefer_reality: nullable(z.boolean()).describe('null or absent = default (false; true for an empty body)'),
  fec: nullable(z.strictObject({ mtu: nullable(z.int().min(0).max(65_535)), repair_overhead: nullable(z.number().min(0).max(4)) })),
  min_paths: nullable(z.int().min(1).max(16)),
}));

const NetworkQuality = z.strictObject({
  rtt_ms: z.int(), jitter_ms: z.number(), packet_loss_percent: z.number(), bandwidth_kbps: z.int(),
  quality_score: z.int(), quality_label: z.string(), probe_method: z.string(),
});

export const P2pAssistResponse = named('P2pAssist', z.strictObject({
  noise: z.strictObject({ pattern: z.literal('Xk'), prologue_hex: z.string(), device_seed_hex: hex(32), static_public_hex: hex(32) }),
  pq: z.strictObject({ identity_public_hex: z.string(), signed_prekey_public_hex: z.string(), kem_public_hex: z.string(), signature_public_hex: z.string() }),
  ice: z.strictObject({
    username_fragment: hex(8), password: hex(32), ttl_secs: z.int(), keepalive_interval_secs: z.int(), trickle: z.boolean(), expires_at: timestamp,
  }),
  transports: z.array(z.strictObject({
    path_id: z.string(), transport: z.string(), resistance: z.string(), latency: z.string(), throughput: z.string(), network_quality: NetworkQuality,
  })),
  multipath: z.strictObject({
    fec_mtu: z.int(), fec_overhead: z.number(), primary_path: z.string().nullable(),
    sample_segments: z.record(z.string(), z.strictObject({ total: z.int(), repair: z.int() })),
  }),
  obfuscation: z.strictObject({ reality_fingerprint_hex: z.string().nullable(), domain_fronting: z.boolean(), protocol_mimicry: z.boolean(), tor_bridge: z.boolean() }),
  security: SecuritySnapshot,
  keepalive: z.strictObject({ enabled: z.boolean(), ping_interval_secs: z.int(), pong_timeout_secs: z.int(), max_missed_pongs: z.int() }),
  reconnect: z.strictObject({ strategy: z.string(), initial_backoff_secs: z.int(), max_backoff_secs: z.int(), max_attempts: z.int() }),
}));

// ---- this document itself ----

export const OpenApiDocument = named('OpenApiDocument', z.looseObject({
  openapi: z.literal('3.1.0'),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.looseObject({ operationId: z.string(), responses: z.record(z.string(), z.unknown()) }))),
  components: z.looseObject({ schemas: z.record(z.string(), z.unknown()) }),
}));
