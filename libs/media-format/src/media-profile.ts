/**
 * Decodes a call's media profile (the CallOffer's or accepting CallAnswer's `media` object, spec
 * calls-media §2.3) into the typed profile, the way the reference's serde structs read it:
 * required fields must be there, `#[serde(default)]` fields take their TYPE's default when absent
 * (false, "encoded", [] — not the struct defaults), `null` only where the field is an Option,
 * integers must fit their Rust type, unknown fields are ignored (§2.10). Unknown codec names fail
 * with `unknown_codec`, everything else with `bad_profile`, naming the field.
 *
 * Semantic limits (Opus sample rates, channel counts, bitrates, sizes) are not checked here: like
 * the reference, the encoders check them when they are built.
 */
import { MediaError } from './media-errors.js';
import {
  AUDIO_CODEC_CODES, CALL_MODES, HARDWARE_ACCELERATIONS, SOURCE_MODE_CODES, VIDEO_CODEC_CODES,
  type AudioCodecDescriptor, type AudioParameters, type CallMediaProfile, type MediaCapabilities,
  type VideoCodecDescriptor, type VideoParameters, type VideoResolution,
} from './media-types.js';

/**
 * The profile of an offer that has no `media` at all: the struct defaults (§2.3), which differ
 * from the per-field defaults (fec/dtx on, raw source, Opus preferred).
 */
export const DEFAULT_CALL_MEDIA_PROFILE: CallMediaProfile = Object.freeze({
  audio: Object.freeze({
    codec: 'opus', bitrate: 16_000, sample_rate: 48_000, channels: 1, fec: true, dtx: true, source: 'raw',
    preferred_codecs: Object.freeze(['opus'] as const),
    available_codecs: Object.freeze([Object.freeze({ codec: 'opus', bitrate: 16_000, sample_rate: 48_000, channels: 1, priority: 100 } as const)]),
    allow_passthrough: false,
  } as const),
  video: null,
  mode: 'full_duplex',
  capabilities: null,
});

type Json = unknown;
type JsonObject = Readonly<Record<string, unknown>>;

function fail(path: string, expected: string): never {
  throw new MediaError('bad_profile', `${path} must be ${expected}`);
}

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The field as serde sees it: undefined when absent (an explicit null is returned as null). */
function field(object: JsonObject, name: string): Json {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

function unsigned(bits: 8 | 16 | 32): (value: Json, path: string) => number {
  const max = 2 ** bits - 1;
  return (value, path) => {
    // A bigint comes from lossless JSON parsers (the CCP-1 one) for large integers.
    const n = typeof value === 'bigint' && value >= 0n && value <= BigInt(max) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) return fail(path, `an integer in 0..${max}`);
    return n;
  };
}
const u8 = unsigned(8), u16 = unsigned(16), u32 = unsigned(32);

function bool(value: Json, path: string): boolean {
  if (typeof value !== 'boolean') return fail(path, 'true or false');
  return value;
}

function enumOf<T extends string>(names: readonly T[], what: string, code: 'bad_profile' | 'unknown_codec' = 'bad_profile') {
  return (value: Json, path: string): T => {
    const match = names.find((name) => name === value);
    if (match !== undefined) return match;
    if (code === 'unknown_codec' && typeof value === 'string') {
      throw new MediaError('unknown_codec', `${path}: unknown ${what} ${JSON.stringify(value)}`);
    }
    return fail(path, `one of ${names.join(', ')}`);
  };
}
const audioCodec = enumOf(AUDIO_CODEC_CODES, 'audio codec', 'unknown_codec');
const videoCodec = enumOf(VIDEO_CODEC_CODES, 'video codec', 'unknown_codec');
const sourceMode = enumOf(SOURCE_MODE_CODES, 'source mode');
const hardware = enumOf(HARDWARE_ACCELERATIONS, 'hardware acceleration');
const callMode = enumOf(CALL_MODES, 'call mode');

function arrayOf<T>(item: (value: Json, path: string) => T) {
  return (value: Json, path: string): readonly T[] => {
    if (!Array.isArray(value)) return fail(path, 'an array');
    return value.map((element, index) => item(element, `${path}[${index}]`));
  };
}

/** A `T` field with no serde default: absent or null fails. */
function required<T>(object: JsonObject, path: string, name: string, read: (value: Json, path: string) => T): T {
  const value = field(object, name);
  if (value === undefined) return fail(`${path}.${name}`, 'present');
  if (value === null) return fail(`${path}.${name}`, 'present and not null');
  return read(value, `${path}.${name}`);
}

/** A `#[serde(default)] T` field: absent gives the type's default, null fails. */
function defaulted<T>(object: JsonObject, path: string, name: string, read: (value: Json, path: string) => T, fallback: T): T {
  const value = field(object, name);
  if (value === undefined) return fallback;
  if (value === null) return fail(`${path}.${name}`, 'present and not null');
  return read(value, `${path}.${name}`);
}

/** An `Option<T>` field: absent and null both give null. */
function nullable<T>(object: JsonObject, path: string, name: string, read: (value: Json, path: string) => T): T | null {
  const value = field(object, name);
  if (value === undefined || value === null) return null;
  return read(value, `${path}.${name}`);
}

function struct<T>(read: (object: JsonObject, path: string) => T) {
  return (value: Json, path: string): T => {
    if (!isObject(value)) return fail(path, 'an object');
    return read(value, path);
  };
}

const videoResolution = struct<VideoResolution>((o, p) => ({ width: required(o, p, 'width', u16), height: required(o, p, 'height', u16) }));

const audioCodecDescriptor = struct<AudioCodecDescriptor>((o, p) => ({
  codec: required(o, p, 'codec', audioCodec),
  bitrate: nullable(o, p, 'bitrate', u32),
  sample_rate: nullable(o, p, 'sample_rate', u32),
  channels: nullable(o, p, 'channels', u8),
  priority: defaulted(o, p, 'priority', u8, 0),
}));

const videoCodecDescriptor = struct<VideoCodecDescriptor>((o, p) => ({
  codec: required(o, p, 'codec', videoCodec),
  max_bitrate: nullable(o, p, 'max_bitrate', u32),
  max_resolution: nullable(o, p, 'max_resolution', videoResolution),
  frame_rate: nullable(o, p, 'frame_rate', u8),
  hardware: defaulted(o, p, 'hardware', arrayOf(hardware), []),
  priority: defaulted(o, p, 'priority', u8, 0),
  supports_scalability: defaulted(o, p, 'supports_scalability', bool, false),
}));

const mediaCapabilities = struct<MediaCapabilities>((o, p) => ({
  audio: defaulted(o, p, 'audio', arrayOf(audioCodecDescriptor), []),
  video: defaulted(o, p, 'video', arrayOf(videoCodecDescriptor), []),
  allow_raw_audio: defaulted(o, p, 'allow_raw_audio', bool, false),
  allow_raw_video: defaulted(o, p, 'allow_raw_video', bool, false),
}));

const audioParameters = struct<AudioParameters>((o, p) => ({
  codec: required(o, p, 'codec', audioCodec),
  bitrate: required(o, p, 'bitrate', u32),
  sample_rate: required(o, p, 'sample_rate', u32),
  channels: required(o, p, 'channels', u8),
  fec: defaulted(o, p, 'fec', bool, false),
  dtx: defaulted(o, p, 'dtx', bool, false),
  source: defaulted(o, p, 'source', sourceMode, 'encoded'),
  preferred_codecs: defaulted(o, p, 'preferred_codecs', arrayOf(audioCodec), []),
  available_codecs: defaulted(o, p, 'available_codecs', arrayOf(audioCodecDescriptor), []),
  allow_passthrough: defaulted(o, p, 'allow_passthrough', bool, false),
}));

const videoParameters = struct<VideoParameters>((o, p) => ({
  codec: required(o, p, 'codec', videoCodec),
  max_bitrate: required(o, p, 'max_bitrate', u32),
  max_resolution: required(o, p, 'max_resolution', videoResolution),
  frame_rate: required(o, p, 'frame_rate', u8),
  adaptive: defaulted(o, p, 'adaptive', bool, false),
  source: defaulted(o, p, 'source', sourceMode, 'encoded'),
  preferred_codecs: defaulted(o, p, 'preferred_codecs', arrayOf(videoCodec), []),
  available_codecs: defaulted(o, p, 'available_codecs', arrayOf(videoCodecDescriptor), []),
  hardware: defaulted(o, p, 'hardware', arrayOf(hardware), []),
  allow_passthrough: defaulted(o, p, 'allow_passthrough', bool, false),
  capabilities: nullable(o, p, 'capabilities', mediaCapabilities),
}));

const callMediaProfile = struct<CallMediaProfile>((o, p) => ({
  audio: required(o, p, 'audio', audioParameters),
  video: nullable(o, p, 'video', videoParameters),
  mode: defaulted(o, p, 'mode', callMode, 'full_duplex'),
  capabilities: nullable(o, p, 'capabilities', mediaCapabilities),
}));

/**
 * The typed profile of a decoded `media` value (JSON.parse output, or the CCP-1 parser's, whose
 * large integers are bigints). `undefined` — an offer without `media` — gives the struct defaults.
 * Throws MediaError `bad_profile` (or `unknown_codec` for a codec name outside §2.1).
 */
export function parseCallMediaProfile(media: unknown): CallMediaProfile {
  if (media === undefined) return DEFAULT_CALL_MEDIA_PROFILE;
  return callMediaProfile(media, 'media');
}

/** parseCallMediaProfile of JSON text (MediaInput.profile_json); text that is not JSON is `bad_profile`. */
export function parseCallMediaProfileJson(json: string): CallMediaProfile {
  let media: unknown;
  try {
    media = JSON.parse(json);
  } catch (err) {
    throw new MediaError('bad_profile', `media profile is not JSON: ${(err as Error).message}`);
  }
  return callMediaProfile(media, 'media');
}
