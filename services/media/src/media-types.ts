/**
 * The codec tables and the slice of the CallOffer media profile (spec calls-media §2.1–2.3) the
 * media service reads. Field names are the JSON names, so a decoded offer can be passed as is.
 */

export type MediaKind = 'audio' | 'video';
export type MediaSourceMode = 'encoded' | 'raw' | 'hybrid';
export type AudioCodec = 'opus' | 'raw_pcm';
export type VideoCodec = 'raw_i420' | 'vp8' | 'vp9' | 'h264_baseline' | 'h264_main' | 'h265_main' | 'av1_main';
export type MediaCodec = AudioCodec | VideoCodec;

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
}

export interface VideoCodecDescriptor {
  readonly codec: VideoCodec;
  readonly max_resolution?: VideoResolution | null;
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
}

export interface CallMediaProfile {
  readonly audio: AudioParameters;
  readonly video?: VideoParameters | null;
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
