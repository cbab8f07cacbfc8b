export { MediaError } from './media-errors.js';
export type { MediaErrorCode } from './media-errors.js';
export {
  AUDIO_CODEC_CODES, SOURCE_MODE_CODES, VIDEO_CODEC_CODES, streamKeyLabel,
} from './media-types.js';
export type {
  AudioCodec, AudioCodecDescriptor, AudioParameters, CallMediaProfile, MediaCodec, MediaKind, MediaSourceMode,
  MediaStreamKey, VideoCodec, VideoCodecDescriptor, VideoParameters, VideoResolution,
} from './media-types.js';
export {
  MEDIA_HEADER_BYTES, MEDIA_HEADER_CAPABILITY, MEDIA_HEADER_VERSION,
  buildMediaPayload, codecFromName, isRawCodec, negotiatesMediaHeader, parseMediaPayload,
} from './media-envelope.js';
export type { MediaFraming, MediaPayload } from './media-envelope.js';
export {
  OPUS_FRAME_MS, OPUS_MAX_BITRATE, OPUS_MIN_BITRATE, OPUS_SAMPLE_RATES,
  OpusStreamEncoder, opusOptionsFromProfile, pcmFrameBytes,
} from './opus-encoder.js';
export type { OpusStreamOptions } from './opus-encoder.js';
export { IVF_FILE_HEADER_BYTES, IVF_FRAME_HEADER_BYTES, IvfReader, isVp8Keyframe, isVp9Keyframe } from './ivf-reader.js';
export type { IvfFrame, IvfHeader } from './ivf-reader.js';
export { DropOldestQueue } from './drop-oldest-queue.js';
export { FfmpegVp8Process, vp8OutputOptions } from './ffmpeg-vp8-process.js';
export type { FfmpegVp8Handlers, Vp8EncodeSettings } from './ffmpeg-vp8-process.js';
export { Vp8StreamEncoder, i420FrameBytes, vp8OptionsFromProfile } from './vp8-encoder.js';
export type { EncodedVideoFrame, Vp8StreamHandlers, Vp8StreamOptions, Vp8StreamStats } from './vp8-encoder.js';
export { decideMediaProcessing, isRawPayload, planForReceiver, selectVideoTarget } from './transcode-decision.js';
export type { MediaDecision, ReceiverPlan, SenderStream, TranscodeTarget } from './transcode-decision.js';
export { mediaMetrics } from './media-metrics.js';
export type { MediaDropReason, MediaMetrics } from './media-metrics.js';
