import { FrameType, type Frame } from '@commucat/ccp1';
import type { MediaFraming } from '@commucat/contracts';
import { MEDIA_HEADER_BYTES, MEDIA_HEADER_VERSION } from '@commucat/media-format';

export const isMediaFrame = (type: FrameType): boolean => type === FrameType.VoiceFrame || type === FrameType.VideoFrame;

/**
 * Gives one connection a media frame the way it negotiated: with the header `[1, source, codec]`
 * when it announced `media-header-v1`, otherwise the bare packet the real client decodes (§4.6).
 * Frames without framing information (no call, passed through untouched) are left as they are.
 */
export function frameForConnection(frame: Frame, media: MediaFraming | undefined, wantsHeader: boolean): Frame {
  if (!media || !isMediaFrame(frame.type) || frame.payload.kind !== 'opaque') return frame;
  const bytes = frame.payload.bytes;
  if (media.hasHeader === wantsHeader) return frame;
  if (media.hasHeader) {
    if (bytes.length < MEDIA_HEADER_BYTES) return frame;
    return { ...frame, payload: { kind: 'opaque', bytes: bytes.subarray(MEDIA_HEADER_BYTES) } };
  }
  const framed = Buffer.concat([Buffer.from([MEDIA_HEADER_VERSION, media.source, media.codec]), bytes]);
  return { ...frame, payload: { kind: 'opaque', bytes: framed } };
}
