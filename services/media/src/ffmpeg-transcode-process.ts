/**
 * The ffmpeg child of one transcoded stream: encoded VP8/VP9 frames of a sender, wrapped in IVF
 * on stdin, decoded, scaled to the receivers' size and encoded again to VP8 with the same
 * realtime settings as raw input (ffmpeg-vp8-process.ts runs the process; this file only says
 * what goes in).
 */
import { FfmpegVp8Process, type FfmpegVideoInput, type FfmpegVp8Handlers, type Vp8EncodeSettings } from './ffmpeg-vp8-process.js';
import { ivfFileHeader, ivfFrameHeader } from './ivf-writer.js';
import { SOURCE_FOURCC, type SourceVideoCodec } from './source-frame.js';

export interface TranscodeSource {
  readonly codec: SourceVideoCodec;
  /** Written into the IVF header only: the decoder takes the real size from each key frame. */
  readonly width: number;
  readonly height: number;
}

/** IVF on stdin, pts in frames of the stream's rate; output scaled to the encode size. */
export function ivfTranscodeInput(source: TranscodeSource, settings: Vp8EncodeSettings): FfmpegVideoInput {
  return {
    format: 'ivf',
    // One decoder thread: frame threading would hold frames back before any output appears.
    inputOptions: ['-threads', '1'],
    outputOptions: [
      '-vf', `scale=${settings.width}:${settings.height}`,
      // A sender's key frame (often a receiver's keyframe request) becomes a key frame here too.
      '-force_key_frames', 'source',
    ],
    preamble: ivfFileHeader({ fourcc: SOURCE_FOURCC[source.codec], width: source.width, height: source.height, timebaseRate: settings.frameRate, timebaseScale: 1 }),
    framePrefix: (pts, frame) => ivfFrameHeader(frame.byteLength, pts),
  };
}

/** Starts the process; write() takes one bare source frame and returns its pts. */
export function startTranscodeProcess(source: TranscodeSource, settings: Vp8EncodeSettings, handlers: FfmpegVp8Handlers): FfmpegVp8Process {
  return new FfmpegVp8Process(settings, handlers, ivfTranscodeInput(source, settings));
}
