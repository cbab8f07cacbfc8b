/**
 * VoiceFrame/VideoFrame payloads (spec calls-media §4.1, §4.6–4.7). The reference server always
 * puts a 3-byte header `[version 1, source mode, codec]` in front of the body, but the legacy client
 * neither sends nor strips it. So the header is opt-in: only clients that listed
 * MEDIA_HEADER_CAPABILITY in their Hello capabilities use it; for the others a payload is the bare
 * encoded packet of the offer's codec.
 */
import { MediaError } from './media-errors.js';
import {
  AUDIO_CODEC_CODES, SOURCE_MODE_CODES, VIDEO_CODEC_CODES,
  type MediaCodec, type MediaKind, type MediaSourceMode,
} from './media-types.js';

export const MEDIA_HEADER_VERSION = 1;
export const MEDIA_HEADER_BYTES = 3;
/** The Hello capability string a client advertises to use the 3-byte media header. */
export const MEDIA_HEADER_CAPABILITY = 'media-header-v1';

export interface MediaPayload {
  readonly kind: MediaKind;
  readonly source: MediaSourceMode;
  readonly codec: MediaCodec;
  /** The media itself: an Opus packet, s16le PCM, a VPx frame or planar I420. */
  readonly body: Buffer;
}

/**
 * How a peer frames its media payloads: with the header, or bare bytes whose codec is the one the
 * call offer named for this kind.
 */
export type MediaFraming =
  | { readonly header: true }
  | { readonly header: false; readonly codec: MediaCodec };

export function negotiatesMediaHeader(capabilities: readonly string[]): boolean {
  return capabilities.includes(MEDIA_HEADER_CAPABILITY);
}

function codecTable(kind: MediaKind): readonly MediaCodec[] {
  return kind === 'audio' ? AUDIO_CODEC_CODES : VIDEO_CODEC_CODES;
}

/** Raw codecs carry raw samples whatever the source byte says. */
export function isRawCodec(codec: MediaCodec): boolean {
  return codec === 'raw_pcm' || codec === 'raw_i420';
}

/** Checks that `name` is a codec of `kind` (JSON strings, spec §2.1). */
export function codecFromName(kind: MediaKind, name: string): MediaCodec {
  const codec = codecTable(kind).find((known) => known === name);
  if (codec === undefined) throw new MediaError('unknown_codec', `unknown ${kind} codec ${JSON.stringify(name)}`);
  return codec;
}

export function parseMediaPayload(kind: MediaKind, payload: Uint8Array, framing: MediaFraming): MediaPayload {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (!framing.header) {
    const codec = codecFromName(kind, framing.codec);
    if (bytes.length === 0) throw new MediaError('bad_envelope', `empty ${kind} payload`);
    return { kind, source: isRawCodec(codec) ? 'raw' : 'encoded', codec, body: bytes };
  }
  if (bytes.length <= MEDIA_HEADER_BYTES) {
    throw new MediaError('bad_envelope', `${kind} payload of ${bytes.length} bytes has no body after the media header`);
  }
  if (bytes[0] !== MEDIA_HEADER_VERSION) {
    throw new MediaError('bad_envelope', `media header version ${bytes[0]} (expected ${MEDIA_HEADER_VERSION})`);
  }
  const source = SOURCE_MODE_CODES[bytes[1]!];
  if (source === undefined) throw new MediaError('bad_envelope', `unknown media source mode byte ${bytes[1]}`);
  const codec = codecTable(kind)[bytes[2]!];
  if (codec === undefined) throw new MediaError('unknown_codec', `unknown ${kind} codec byte ${bytes[2]}`);
  return { kind, source, codec, body: bytes.subarray(MEDIA_HEADER_BYTES) };
}

/**
 * The payload to send to one receiver: with the header if that receiver negotiated it, otherwise
 * the bare body (which is what the legacy client hands straight to its decoder).
 */
export function buildMediaPayload(payload: MediaPayload, withHeader: boolean): Buffer {
  if (!withHeader) return payload.body;
  const sourceCode = SOURCE_MODE_CODES.indexOf(payload.source);
  const codecCode = codecTable(payload.kind).indexOf(payload.codec);
  if (sourceCode < 0) throw new MediaError('bad_envelope', `unknown media source mode ${payload.source}`);
  if (codecCode < 0) throw new MediaError('unknown_codec', `unknown ${payload.kind} codec ${payload.codec}`);
  const out = Buffer.allocUnsafe(MEDIA_HEADER_BYTES + payload.body.length);
  out[0] = MEDIA_HEADER_VERSION;
  out[1] = sourceCode;
  out[2] = codecCode;
  payload.body.copy(out, MEDIA_HEADER_BYTES);
  return out;
}
