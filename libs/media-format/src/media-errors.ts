/**
 * Stable codes for every media frame or setting the service refuses. A media error never closes a
 * connection (the reference did, spec calls-media §4.5.3): the caller drops the frame and counts it.
 */
export type MediaErrorCode =
  /** Payload too short, wrong header version or unknown source-mode byte. */
  | 'bad_envelope'
  /** A codec byte or name that is not in the codec tables (spec §2.1). */
  | 'unknown_codec'
  /** A known codec this service cannot pass through or encode (H.264/H.265/AV1 input). */
  | 'unsupported_codec'
  /** Raw media the call profile gives no target for (no `video`, or audio target `raw_pcm`). */
  | 'unsupported'
  /** A raw frame whose byte length is not exactly one frame of the profile's format. */
  | 'wrong_frame_size'
  /** A profile value the encoder cannot use (sample rate, channels, bitrate, size, fps). */
  | 'bad_profile'
  /** Bytes from ffmpeg that are not a valid IVF stream. */
  | 'bad_ivf'
  /** The encoder process or library failed; the frames it held are lost. */
  | 'encoder_failed'
  /** The encoder was used after close(). */
  | 'encoder_closed';

export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(readonly code: MediaErrorCode, message: string) {
    super(message);
  }
}
