// Media formats (header, codec tables, profiles, decisions) live in @commucat/media-format; the
// error type is re-exported because every encoder here throws it.
export { MediaError } from '@commucat/media-format';
export type { MediaErrorCode } from '@commucat/media-format';
export {
  OPUS_FRAME_MS, OPUS_MAX_BITRATE, OPUS_MIN_BITRATE, OPUS_SAMPLE_RATES,
  OpusStreamEncoder, opusOptionsFromProfile, pcmFrameBytes,
} from './opus-encoder.js';
export type { OpusStreamOptions } from './opus-encoder.js';
export { IVF_FILE_HEADER_BYTES, IVF_FRAME_HEADER_BYTES, IvfReader, isVp8Keyframe, isVp9Keyframe } from './ivf-reader.js';
export type { IvfFrame, IvfHeader } from './ivf-reader.js';
export { DropOldestQueue } from './drop-oldest-queue.js';
export { FfmpegVp8Process, rawI420Input, vp8OutputOptions } from './ffmpeg-vp8-process.js';
export type { FfmpegVideoInput, FfmpegVp8Handlers, Vp8EncodeSettings } from './ffmpeg-vp8-process.js';
export { ivfFile, ivfFileHeader, ivfFrameHeader } from './ivf-writer.js';
export { SOURCE_FOURCC, checkSourceFrame, isSourceKeyframe, isSourceVideoCodec } from './source-frame.js';
export type { SourceVideoCodec } from './source-frame.js';
export { ivfTranscodeInput, startTranscodeProcess } from './ffmpeg-transcode-process.js';
export type { TranscodeSource } from './ffmpeg-transcode-process.js';
export { TranscodeStream } from './transcode-stream.js';
export type { TranscodeStreamOptions } from './transcode-stream.js';
export { Vp8StreamEncoder, i420FrameBytes, vp8EncodeSettings, vp8OptionsFromProfile } from './vp8-encoder.js';
export type { EncodedVideoFrame, Vp8StreamHandlers, Vp8StreamOptions, Vp8StreamStats } from './vp8-encoder.js';
export { openMediaStream, streamKeyOf, streamSetupOf } from './media-stream.js';
export type { EncodedPacket, EncoderTuning, FrameRouting, MediaStream, MediaStreamHandlers, OpenStreamOptions, TranscodeRequest } from './media-stream.js';
export { MediaWorker } from './media-worker.js';
export type { MediaWorkerOptions } from './media-worker.js';
export { mediaMetrics } from './media-metrics.js';
export type { MediaDropReason, MediaMetrics } from './media-metrics.js';
