import type { Frame, JsonValue } from '@commucat/ccp1';
import { AUDIO_CODEC_CODES, CALL_MODES, HARDWARE_ACCELERATIONS, SOURCE_MODE_CODES, VIDEO_CODEC_CODES } from '@commucat/media-format';
import { RouterError } from './errors.js';
import { isJsonObject, type JsonObject } from './payloads.js';

/*
 * Decoders of the five call signalling payloads (spec calls-media §2). They accept exactly what
 * the reference's serde structs accept (§2.10): unknown fields are ignored, integers must fit
 * their Rust type, `null` only where the field is an Option, enums are snake_case strings. A
 * payload that fails becomes RouterError('invalid') naming the offending field. The decoders only
 * validate and pick out what the router needs: frames are forwarded as the sender wrote them.
 *
 * Limitation: the CCP-1 JSON parser reads `1.0` as the number 1, so an integral float is accepted
 * where serde would refuse it.
 */

type Check = (value: JsonValue, path: string) => void;

/** How a struct field may be absent (serde): required, `#[serde(default)]`, or `Option<T>`. */
interface FieldRule {
  readonly presence: 'required' | 'defaulted' | 'nullable';
  readonly check: Check;
}

const fail = (path: string, expected: string): never => {
  throw new RouterError('invalid', `${path} must be ${expected}`);
};

const required = (check: Check): FieldRule => ({ presence: 'required', check });
const defaulted = (check: Check): FieldRule => ({ presence: 'defaulted', check });
const nullable = (check: Check): FieldRule => ({ presence: 'nullable', check });

const anyJson: Check = () => {};

const string: Check = (value, path) => {
  if (typeof value !== 'string') fail(path, 'a string');
};

const bool: Check = (value, path) => {
  if (typeof value !== 'boolean') fail(path, 'true or false');
};

const unsigned = (bits: 8 | 16 | 32): Check => {
  const max = 2 ** bits - 1;
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) fail(path, `an integer in 0..${max}`);
  };
};
const u8 = unsigned(8), u16 = unsigned(16), u32 = unsigned(32);

const MAX_U64 = (1n << 64n) - 1n;
/** u64: large values arrive as bigint (lossless JSON), small ones as numbers. */
const u64: Check = (value, path) => {
  if (typeof value === 'bigint' ? value >= 0n && value <= MAX_U64 : typeof value === 'number' && Number.isInteger(value) && value >= 0) return;
  fail(path, 'an integer in 0..2^64-1');
};

/** f32: any JSON number (serde accepts integers for floats too). */
const float: Check = (value, path) => {
  if (typeof value !== 'number' && typeof value !== 'bigint') fail(path, 'a number');
};

const oneOf = (names: readonly string[]): Check => (value, path) => {
  if (typeof value !== 'string' || !names.includes(value)) fail(path, `one of ${names.join(', ')}`);
};

const arrayOf = (item: Check): Check => (value, path) => {
  if (!Array.isArray(value)) return fail(path, 'an array');
  value.forEach((element, index) => item(element, `${path}[${index}]`));
};

function checkFields(value: JsonObject, path: string, fields: Readonly<Record<string, FieldRule>>): void {
  for (const [name, rule] of Object.entries(fields)) {
    const fieldPath = path ? `${path}.${name}` : name;
    const field = Object.hasOwn(value, name) ? value[name] : undefined;
    if (field === undefined) {
      if (rule.presence === 'required') fail(fieldPath, 'present');
      continue;
    }
    if (field === null) {
      if (rule.presence === 'nullable') continue;
      fail(fieldPath, 'present and not null');
    }
    rule.check(field as JsonValue, fieldPath);
  }
}

const struct = (fields: Readonly<Record<string, FieldRule>>): Check => (value, path) => {
  if (!isJsonObject(value)) return fail(path, 'an object');
  checkFields(value, path, fields);
};

// §2.1 enumerations: the media ones are @commucat/media-format's tables.
const AUDIO_CODECS = AUDIO_CODEC_CODES;
const VIDEO_CODECS = VIDEO_CODEC_CODES;
const SOURCE_MODES = SOURCE_MODE_CODES;
const HARDWARE = HARDWARE_ACCELERATIONS;
const PROTOCOLS = ['tcp', 'udp'];
const CANDIDATE_TYPES = ['host', 'srflx', 'prflx', 'relay'];
const TCP_TYPES = ['active', 'passive', 'so'];
export const CALL_REJECT_REASONS = ['busy', 'decline', 'unsupported', 'timeout', 'error'] as const;
export const CALL_END_REASONS = ['hangup', 'cancel', 'failure', 'timeout'] as const;
const DIRECTIONS = ['send', 'receive'] as const;
export const TRANSPORT_UPDATE_KINDS = ['candidate', 'selected_candidate_pair', 'consent_keepalive'] as const;

export type CallRejectReason = (typeof CALL_REJECT_REASONS)[number];
export type CallEndReason = (typeof CALL_END_REASONS)[number];
export type CallMediaDirection = (typeof DIRECTIONS)[number];
export type TransportUpdateKind = (typeof TRANSPORT_UPDATE_KINDS)[number];

// §2.2 codec descriptors.
const videoResolution = struct({ width: required(u16), height: required(u16) });
const audioCodecDescriptor = struct({
  codec: required(oneOf(AUDIO_CODECS)), bitrate: nullable(u32), sample_rate: nullable(u32), channels: nullable(u8), priority: defaulted(u8),
});
const videoCodecDescriptor = struct({
  codec: required(oneOf(VIDEO_CODECS)), max_bitrate: nullable(u32), max_resolution: nullable(videoResolution), frame_rate: nullable(u8),
  hardware: defaulted(arrayOf(oneOf(HARDWARE))), priority: defaulted(u8), supports_scalability: defaulted(bool),
});
const mediaCapabilities = struct({
  audio: defaulted(arrayOf(audioCodecDescriptor)), video: defaulted(arrayOf(videoCodecDescriptor)),
  allow_raw_audio: defaulted(bool), allow_raw_video: defaulted(bool),
});

// §2.3 media profile.
const audioParameters = struct({
  codec: required(oneOf(AUDIO_CODECS)), bitrate: required(u32), sample_rate: required(u32), channels: required(u8),
  fec: defaulted(bool), dtx: defaulted(bool), source: defaulted(oneOf(SOURCE_MODES)),
  preferred_codecs: defaulted(arrayOf(oneOf(AUDIO_CODECS))), available_codecs: defaulted(arrayOf(audioCodecDescriptor)),
  allow_passthrough: defaulted(bool),
});
const videoParameters = struct({
  codec: required(oneOf(VIDEO_CODECS)), max_bitrate: required(u32), max_resolution: required(videoResolution), frame_rate: required(u8),
  adaptive: defaulted(bool), source: defaulted(oneOf(SOURCE_MODES)), preferred_codecs: defaulted(arrayOf(oneOf(VIDEO_CODECS))),
  available_codecs: defaulted(arrayOf(videoCodecDescriptor)), hardware: defaulted(arrayOf(oneOf(HARDWARE))),
  allow_passthrough: defaulted(bool), capabilities: nullable(mediaCapabilities),
});
const callMediaProfile = struct({
  audio: required(audioParameters), video: nullable(videoParameters), mode: defaulted(oneOf(CALL_MODES)), capabilities: nullable(mediaCapabilities),
});

// §2.4 transport.
const iceCredentials = struct({ username_fragment: required(string), password: required(string), expires_at: nullable(u64) });
const transportCandidate = struct({
  address: required(string), port: required(u16), protocol: defaulted(oneOf(PROTOCOLS)), foundation: nullable(string),
  component: nullable(u8), priority: nullable(u32), candidate_type: nullable(oneOf(CANDIDATE_TYPES)), related_address: nullable(string),
  related_port: nullable(u16), tcp_type: nullable(oneOf(TCP_TYPES)), sdp_mid: nullable(string), sdp_mline_index: nullable(u16), url: nullable(string),
});
const transportCandidateRef = struct({
  address: required(string), port: required(u16), protocol: defaulted(oneOf(PROTOCOLS)),
  candidate_type: nullable(oneOf(CANDIDATE_TYPES)), foundation: nullable(string), priority: nullable(u32),
});
const callTransportFields = struct({
  prefer_relay: defaulted(bool), fingerprints: defaulted(arrayOf(string)), ice_credentials: nullable(iceCredentials),
  trickle: defaulted(bool), consent_interval_secs: nullable(u16),
});
/** `candidates` also answers to its legacy name `udp_candidates` (serde alias: both at once is an error). */
const callTransport: Check = (value, path) => {
  callTransportFields(value, path);
  const object = value as JsonObject;
  const names = ['candidates', 'udp_candidates'].filter((name) => Object.hasOwn(object, name));
  if (names.length > 1) fail(`${path}.candidates`, 'given once (candidates or udp_candidates)');
  if (names.length === 1) checkFields(object, path, { [names[0]!]: defaulted(arrayOf(transportCandidate)) });
};

/**
 * Limits the reference enforces when it builds the call's transcoder from the offer's media
 * (spec §2.10): a profile outside them fails the offer.
 */
const OPUS_SAMPLE_RATES = [8000, 12000, 16000, 24000, 48000];
function checkMediaLimits(media: JsonObject): void {
  const audio = media.audio as JsonObject;
  if (!OPUS_SAMPLE_RATES.includes(audio.sample_rate as number)) fail('media.audio.sample_rate', `one of ${OPUS_SAMPLE_RATES.join(', ')}`);
  if (audio.channels !== 1 && audio.channels !== 2) fail('media.audio.channels', '1 or 2');
  if ((audio.bitrate as number) < 1 || (audio.bitrate as number) > 2 ** 31 - 1) fail('media.audio.bitrate', 'in 1..2^31-1');
  const video = media.video;
  if (isJsonObject(video)) {
    const resolution = video.max_resolution as JsonObject;
    if (resolution.width === 0 || resolution.height === 0) fail('media.video.max_resolution', 'larger than 0x0');
  }
}

/** A non-empty call id Postgres can store (TEXT cannot hold NUL). */
function callIdOf(value: JsonObject): string {
  const callId = value.call_id;
  if (typeof callId !== 'string' || callId.length === 0) fail('call_id', 'a non-empty string');
  if ((callId as string).includes('\u0000') || (callId as string).length > 256) fail('call_id', 'at most 256 characters without NUL');
  return callId as string;
}

function objectOf(frame: Frame, what: string): JsonObject {
  const value = frame.payload.kind === 'control' ? frame.payload.value : null;
  if (!isJsonObject(value)) throw new RouterError('invalid', `a ${what} payload must be a JSON object`);
  return value;
}

const optionalObject = (value: JsonValue | undefined): JsonObject | undefined => (isJsonObject(value ?? null) ? (value as JsonObject) : undefined);

export interface CallOfferPayload {
  readonly callId: string;
  /** Present only when the offer carries them; stored as the call's current profile / transport. */
  readonly media: JsonObject | undefined;
  readonly transport: JsonObject | undefined;
}

/** CallOffer (§2.5): `from`, `to` and `expires_at` are checked for type only; the router ignores them. */
export function parseCallOffer(frame: Frame): CallOfferPayload {
  const value = objectOf(frame, 'CallOffer');
  const callId = callIdOf(value);
  checkFields(value, '', {
    from: required(string), to: required(arrayOf(string)), media: defaulted(callMediaProfile), metadata: nullable(anyJson),
    transport: nullable(callTransport), expires_at: nullable(u64), ephemeral_key: nullable(string),
  });
  const media = optionalObject(value.media);
  if (media) checkMediaLimits(media);
  return { callId, media, transport: optionalObject(value.transport) };
}

export interface CallAnswerPayload {
  readonly callId: string;
  readonly accept: boolean;
  readonly reason: CallRejectReason | undefined;
  readonly media: JsonObject | undefined;
  readonly transport: JsonObject | undefined;
}

/** CallAnswer (§2.6). */
export function parseCallAnswer(frame: Frame): CallAnswerPayload {
  const value = objectOf(frame, 'CallAnswer');
  const callId = callIdOf(value);
  checkFields(value, '', {
    accept: required(bool), media: nullable(callMediaProfile), transport: nullable(callTransport), reason: nullable(oneOf(CALL_REJECT_REASONS)),
    metadata: nullable(anyJson), selected_audio_codec: nullable(oneOf(AUDIO_CODECS)), selected_video_codec: nullable(oneOf(VIDEO_CODECS)),
    audio_source: nullable(oneOf(SOURCE_MODES)), video_source: nullable(oneOf(SOURCE_MODES)), video_hardware: nullable(oneOf(HARDWARE)),
  });
  return {
    callId,
    accept: value.accept as boolean,
    reason: typeof value.reason === 'string' ? (value.reason as CallRejectReason) : undefined,
    media: optionalObject(value.media),
    transport: optionalObject(value.transport),
  };
}

export interface CallEndPayload {
  readonly callId: string;
  readonly reason: CallEndReason;
}

/** CallEnd (§2.7). */
export function parseCallEnd(frame: Frame): CallEndPayload {
  const value = objectOf(frame, 'CallEnd');
  const callId = callIdOf(value);
  checkFields(value, '', { reason: required(oneOf(CALL_END_REASONS)), metadata: nullable(anyJson) });
  return { callId, reason: value.reason as CallEndReason };
}

const mediaStreamStats = struct({
  bitrate: required(u32), packet_loss: defaulted(float), jitter_ms: defaulted(u32), rtt_ms: nullable(u32), frames_per_second: nullable(u8),
  key_frames: nullable(u32), codec: nullable(string), source: nullable(oneOf(SOURCE_MODES)), hardware: nullable(oneOf(HARDWARE)),
});

export interface CallStatsPayload {
  readonly callId: string;
  readonly direction: CallMediaDirection;
}

/** CallStats (§2.8). */
export function parseCallStats(frame: Frame): CallStatsPayload {
  const value = objectOf(frame, 'CallStats');
  const callId = callIdOf(value);
  checkFields(value, '', {
    direction: required(oneOf(DIRECTIONS)), audio: nullable(mediaStreamStats), video: nullable(mediaStreamStats), timestamp: nullable(u64),
  });
  return { callId, direction: value.direction as CallMediaDirection };
}

const TRANSPORT_UPDATE_FIELDS: Readonly<Record<TransportUpdateKind, Readonly<Record<string, FieldRule>>>> = {
  candidate: { candidate: required(transportCandidate) },
  selected_candidate_pair: { local: required(transportCandidateRef), remote: required(transportCandidateRef), rtt_ms: nullable(u32) },
  consent_keepalive: { interval_secs: nullable(u16) },
};

export interface TransportUpdatePayload {
  readonly callId: string;
  readonly update: TransportUpdateKind;
  /** consent_keepalive's interval, when given. */
  readonly intervalSecs: number | undefined;
}

/** TransportUpdate (§2.9): `call_id` plus one variant's fields, tagged by `update`. */
export function parseTransportUpdate(frame: Frame): TransportUpdatePayload {
  const value = objectOf(frame, 'TransportUpdate');
  const callId = callIdOf(value);
  checkFields(value, '', { update: required(oneOf(TRANSPORT_UPDATE_KINDS)) });
  const update = value.update as TransportUpdateKind;
  checkFields(value, '', TRANSPORT_UPDATE_FIELDS[update]);
  return { callId, update, intervalSecs: typeof value.interval_secs === 'number' ? value.interval_secs : undefined };
}
