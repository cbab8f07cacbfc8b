/**
 * The codec tables and the slice of the CallOffer media profile (spec calls-media §2.1–2.3) the
 * media service reads. Field names are the JSON names, so a decoded offer can be passed as is.
 */

export type MediaKind = 'audio' | 'video';
export type MediaSourceMode = 'encoded' | 'raw' | 'hybrid';
export type AudioCodec = 'opus' | 'raw_pcm';
export type VideoCodec = 'raw_i420' | 'vp8' | 'vp9' | 'h264_baseline' | 'h264_main' | 'h265_main' | 'av1_main';
export type MediaCodec = AudioCodec | VideoCodec;
export type HardwareAcceleration = 'cpu' | 'nvidia' | 'amd' | 'intel' | 'apple';
export type CallMode = 'full_duplex' | 'half_duplex';

export const MEDIA_KINDS: readonly MediaKind[] = ['audio', 'video'];
export const HARDWARE_ACCELERATIONS: readonly HardwareAcceleration[] = ['cpu', 'nvidia', 'amd', 'intel', 'apple'];
export const CALL_MODES: readonly CallMode[] = ['full_duplex', 'half_duplex'];

/** Byte codes of the 3-byte media header; the array index is the code. */
export const SOURCE_MODE_CODES: readonly MediaSourceMode[] = ['encoded', 'raw', 'hybrid'];
export const AUDIO_CODEC_CODES: readonly AudioCodec[] = ['opus', 'raw_pcm'];
export const VIDEO_CODEC_CODES: readonly VideoCodec[] = [
  'raw_i420', 'vp8', 'vp9', 'h264_baseline', 'h264_main', 'h265_main', 'av1_main',
];

export interface VideoResolution {
  readonly width: number;
  readonly height: number;
}

export interface AudioCodecDescriptor {
  readonly codec: AudioCodec;
  readonly bitrate?: number | null;
  readonly sample_rate?: number | null;
  readonly channels?: number | null;
  readonly priority?: number;
}

export interface VideoCodecDescriptor {
  readonly codec: VideoCodec;
  readonly max_bitrate?: number | null;
  readonly max_resolution?: VideoResolution | null;
  readonly frame_rate?: number | null;
  readonly hardware?: readonly HardwareAcceleration[];
  readonly priority?: number;
  readonly supports_scalability?: boolean;
}

export interface MediaCapabilities {
  readonly audio?: readonly AudioCodecDescriptor[];
  readonly video?: readonly VideoCodecDescriptor[];
  readonly allow_raw_audio?: boolean;
  readonly allow_raw_video?: boolean;
}

export interface AudioParameters {
  readonly codec: AudioCodec;
  /** bits per second */
  readonly bitrate: number;
  readonly sample_rate: number;
  readonly channels: number;
  readonly fec?: boolean;
  readonly dtx?: boolean;
  readonly source?: MediaSourceMode;
  readonly preferred_codecs?: readonly AudioCodec[];
  readonly available_codecs?: readonly AudioCodecDescriptor[];
  readonly allow_passthrough?: boolean;
}

export interface VideoParameters {
  readonly codec: VideoCodec;
  /** bits per second (the reference passed it to libvpx as kbit/s, spec §4.5.2) */
  readonly max_bitrate: number;
  readonly max_resolution: VideoResolution;
  readonly frame_rate: number;
  readonly source?: MediaSourceMode;
  readonly preferred_codecs?: readonly VideoCodec[];
  readonly available_codecs?: readonly VideoCodecDescriptor[];
  readonly adaptive?: boolean;
  readonly hardware?: readonly HardwareAcceleration[];
  readonly allow_passthrough?: boolean;
  readonly capabilities?: MediaCapabilities | null;
}

/**
 * Optional fields are optional so that hand-written profiles (tests, defaults) stay short;
 * parseCallMediaProfile always fills them in with serde's defaults (§2.3).
 */
export interface CallMediaProfile {
  readonly audio: AudioParameters;
  readonly video?: VideoParameters | null;
  readonly mode?: CallMode;
  readonly capabilities?: MediaCapabilities | null;
}

/** One transcoder exists per (call, sender device, track) — never one per call (spec §4.5.1). */
export interface MediaStreamKey {
  readonly callId: string;
  readonly senderDeviceId: string;
  readonly track: MediaKind;
}

export function streamKeyLabel(key: MediaStreamKey): string {
  return `${key.callId}/${key.senderDeviceId}/${key.track}`;
}

/** Narrows a wire string (e.g. MediaInput.kind) to a media kind. */
export function isMediaKind(value: string): value is MediaKind {
  return value === 'audio' || value === 'video';
}
