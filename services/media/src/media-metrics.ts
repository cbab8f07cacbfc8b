import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why a media frame was not forwarded. */
export type MediaDropReason =
  | 'queue_full' // back-pressure: the oldest queued frame made room for a newer one
  | 'bad_frame' // garbage envelope, unknown codec or wrong raw frame size
  | 'unsupported' // raw media without a usable target in the call profile
  | 'encoder_failed' // frames held by an encoder process that died
  | 'no_keyframe' // encoded source frames before the first key frame: a decoder cannot start mid-GOP
  | 'undecodable' // encoded source frames the decoder could not use (no packet came out)
  | 'closed'; // frames still queued when the stream was closed

export interface MediaMetrics {
  /** Raw frames accepted by an encoder, by kind and target codec. */
  readonly framesIn: Counter<'kind' | 'codec'>;
  /** Encoded packets produced, by kind and codec. */
  readonly framesOut: Counter<'kind' | 'codec'>;
  /** Already-encoded frames forwarded without transcoding. */
  readonly passthrough: Counter<'kind'>;
  readonly dropped: Counter<'kind' | 'reason'>;
  /** Added latency: raw frame handed in → encoded packet out (queue wait included), seconds. */
  readonly encodeLatency: Histogram<'kind'>;
  readonly activeEncoders: Gauge<'kind'>;
  /** Encoder processes replaced, by reason (`keyframe` request, `failure`, or a transcoder's `stall`). */
  readonly encoderRestarts: Counter<'kind' | 'reason'>;
}

// Opus encodes in well under a millisecond, VP8 through ffmpeg takes a few to tens of ms.
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.5];

export function mediaMetrics(registry: Registry): MediaMetrics {
  const registers = [registry];
  return {
    framesIn: new Counter({ name: 'commucat_media_frames_in_total', help: 'Raw media frames accepted for encoding', labelNames: ['kind', 'codec'], registers }),
    framesOut: new Counter({ name: 'commucat_media_frames_out_total', help: 'Encoded media packets produced', labelNames: ['kind', 'codec'], registers }),
    passthrough: new Counter({ name: 'commucat_media_passthrough_total', help: 'Encoded media frames forwarded without transcoding', labelNames: ['kind'], registers }),
    dropped: new Counter({ name: 'commucat_media_dropped_total', help: 'Media frames dropped instead of forwarded', labelNames: ['kind', 'reason'], registers }),
    encodeLatency: new Histogram({ name: 'commucat_media_encode_latency_seconds', help: 'Raw frame in to encoded packet out, queue wait included', labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers }),
    activeEncoders: new Gauge({ name: 'commucat_media_active_encoders', help: 'Open per-stream encoders', labelNames: ['kind'], registers }),
    encoderRestarts: new Counter({ name: 'commucat_media_encoder_restarts_total', help: 'Encoder processes replaced (keyframe request or failure)', labelNames: ['kind', 'reason'], registers }),
  };
}
