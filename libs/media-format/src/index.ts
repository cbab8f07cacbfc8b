export { MediaError } from './media-errors.js';
export type { MediaErrorCode } from './media-errors.js';
export {
  AUDIO_CODEC_CODES, CALL_MODES, HARDWARE_ACCELERATIONS, MEDIA_KINDS, SOURCE_MODE_CODES, VIDEO_CODEC_CODES,
  isMediaKind, streamKeyLabel,
} from './media-types.js';
export type {
  AudioCodec, AudioCodecDescriptor, AudioParameters, CallMediaProfile, CallMode, HardwareAcceleration, MediaCapabilities,
  MediaCodec, MediaKind, MediaSourceMode, MediaStreamKey, VideoCodec, VideoCodecDescriptor, VideoParameters, VideoResolution,
} from './media-types.js';
export {
  MEDIA_HEADER_BYTES, MEDIA_HEADER_CAPABILITY, MEDIA_HEADER_VERSION,
  buildMediaPayload, codecFromName, isRawCodec, negotiatesMediaHeader, parseMediaPayload,
} from './media-envelope.js';
export type { MediaFraming, MediaPayload } from './media-envelope.js';
export { DEFAULT_CALL_MEDIA_PROFILE, parseCallMediaProfile, parseCallMediaProfileJson } from './media-profile.js';
export {
  decideMediaProcessing, isRawPayload, planForReceiver, selectVideoTarget, transcodeTargetFor,
} from './transcode-decision.js';
export type { MediaDecision, ReceiverPlan, SenderStream, TranscodeTarget } from './transcode-decision.js';
export { pickReplica } from './replica-choice.js';
