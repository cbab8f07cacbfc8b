/**
 * What to do with one inbound media frame (spec calls-media §4.2, corrected per §4.5 and §4.7),
 * and whether a given receiver can take a sender's stream as it is.
 *
 * Differences from the reference: a frame that cannot be handled is dropped (never closes the
 * connection); raw codecs are raw whatever the source byte says; encoded H.264/H.265/AV1 is
 * refused rather than half-decoded; encoded Opus/VP8/VP9 always pass through untouched.
 */
import { isRawCodec, type MediaPayload } from './media-envelope.js';
import { MediaError } from './media-errors.js';
import type {
  AudioParameters, CallMediaProfile, MediaCodec, MediaKind, VideoCodec, VideoParameters, VideoResolution,
} from './media-types.js';

/** The codecs this service encodes to. */
export type TranscodeTarget = 'opus' | 'vp8';

export type MediaDecision =
  | { readonly action: 'passthrough'; readonly payload: MediaPayload }
  | { readonly action: 'transcode'; readonly payload: MediaPayload; readonly target: TranscodeTarget }
  | { readonly action: 'drop'; readonly error: MediaError };

const PASSTHROUGH_CODECS: ReadonlySet<MediaCodec> = new Set<MediaCodec>(['opus', 'vp8', 'vp9']);

/** Raw input means the body is PCM / I420: the source byte says so, or the codec can only be raw. */
export function isRawPayload(payload: MediaPayload): boolean {
  return payload.source === 'raw' || isRawCodec(payload.codec);
}

export function decideMediaProcessing(payload: MediaPayload, profile: CallMediaProfile): MediaDecision {
  if (!isRawPayload(payload)) {
    if (PASSTHROUGH_CODECS.has(payload.codec)) return { action: 'passthrough', payload };
    return drop('unsupported_codec', `encoded ${payload.codec} ${payload.kind} can be neither forwarded nor re-encoded`);
  }
  const target = rawTarget(payload.kind, profile);
  if (target instanceof MediaError) return { action: 'drop', error: target };
  return { action: 'transcode', payload, target };
}

/**
 * The codec a raw frame of `kind` is encoded to in a call with this profile: Opus for raw PCM,
 * VP8 for raw I420. Throws MediaError `unsupported` when the profile gives no target (audio
 * codec raw_pcm, no video, or a VP9 video target — only VP8 encoding is available).
 */
export function transcodeTargetFor(kind: MediaKind, profile: CallMediaProfile): TranscodeTarget {
  const target = rawTarget(kind, profile);
  if (target instanceof MediaError) throw target;
  return target;
}

function rawTarget(kind: MediaKind, profile: CallMediaProfile): TranscodeTarget | MediaError {
  if (kind === 'audio') {
    if (profile.audio.codec === 'opus') return 'opus';
    return new MediaError('unsupported', `raw audio in a call whose audio codec is ${profile.audio.codec}: there is nothing to encode to`);
  }
  const video = profile.video;
  if (video === undefined || video === null) return new MediaError('unsupported', 'raw video in a call without video');
  const target = selectVideoTarget(video);
  if (target !== 'vp8') return new MediaError('unsupported', `raw video for a ${target} call: only VP8 encoding is available`);
  return target;
}

/** The reference's rule (spec §4.4): first VP8/VP9 in preferred_codecs then codec; VP8 if none. */
export function selectVideoTarget(video: VideoParameters): VideoCodec {
  for (const codec of [...(video.preferred_codecs ?? []), video.codec]) {
    if (codec === 'vp8' || codec === 'vp9') return codec;
  }
  return 'vp8';
}

function drop(code: 'unsupported_codec', message: string): MediaDecision {
  return { action: 'drop', error: new MediaError(code, message) };
}

/** A sender's stream as it leaves the media service (for raw input: after its shared transcode). */
export interface SenderStream {
  readonly kind: MediaKind;
  /** 'raw' when the service holds the raw frames (and so can encode another variant). */
  readonly source: 'raw' | 'encoded';
  /** The codec of the packets forwarded by default (for raw input, the transcode target). */
  readonly codec: MediaCodec;
  /** Video only, when known. */
  readonly resolution?: VideoResolution;
}

export type ReceiverPlan =
  /** Forward the sender's packets as they are. */
  | { readonly plan: 'forward' }
  /** This receiver needs its own encoder fed from the sender's raw frames. */
  | { readonly plan: 'transcode'; readonly reason: 'codec' | 'resolution'; readonly codec: TranscodeTarget; readonly resolution?: VideoResolution }
  /** Nothing the service can produce fits this receiver. */
  | { readonly plan: 'undeliverable'; readonly reason: string };

export function planForReceiver(sender: SenderStream, receiver: CallMediaProfile): ReceiverPlan {
  return sender.kind === 'audio' ? planAudio(sender, receiver.audio) : planVideo(sender, receiver.video ?? undefined);
}

function planAudio(sender: SenderStream, audio: AudioParameters): ReceiverPlan {
  const accepted = acceptedCodecs(audio.codec, audio.preferred_codecs, audio.available_codecs);
  // An Opus decoder plays any Opus stream (rate, channels and bitrate are in-band), so only the codec matters.
  if (accepted.has(sender.codec)) return { plan: 'forward' };
  if (sender.source === 'raw' && accepted.has('opus')) return { plan: 'transcode', reason: 'codec', codec: 'opus' };
  return { plan: 'undeliverable', reason: `receiver takes ${[...accepted].join('/')} audio, the sender's stream is ${sender.codec}` };
}

function planVideo(sender: SenderStream, video: VideoParameters | undefined): ReceiverPlan {
  if (video === undefined) return { plan: 'undeliverable', reason: 'receiver has no video in its profile' };
  const accepted = acceptedCodecs(video.codec, video.preferred_codecs, video.available_codecs);
  const max = video.max_resolution;
  const tooLarge = sender.resolution !== undefined && (sender.resolution.width > max.width || sender.resolution.height > max.height);
  if (accepted.has(sender.codec) && !tooLarge) return { plan: 'forward' };
  // Raw frames, and encoded VP8/VP9 (which the media service decodes), can be re-encoded for it.
  const reencodable = sender.source === 'raw' || sender.codec === 'vp8' || sender.codec === 'vp9';
  if (!reencodable || !accepted.has('vp8')) {
    const why = tooLarge ? `${sender.resolution!.width}×${sender.resolution!.height} exceeds ${max.width}×${max.height}` : `receiver does not decode ${sender.codec}`;
    return { plan: 'undeliverable', reason: `${why}, and the sender's stream cannot be re-encoded for it` };
  }
  const resolution = tooLarge ? max : sender.resolution;
  return {
    plan: 'transcode',
    reason: accepted.has(sender.codec) ? 'resolution' : 'codec',
    codec: 'vp8',
    ...(resolution !== undefined ? { resolution } : {}),
  };
}

function acceptedCodecs<C extends MediaCodec>(
  codec: C, preferred: readonly C[] | undefined, available: readonly { readonly codec: C }[] | undefined,
): Set<MediaCodec> {
  return new Set<MediaCodec>([codec, ...(preferred ?? []), ...(available ?? []).map((descriptor) => descriptor.codec)]);
}
