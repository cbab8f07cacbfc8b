import { AUDIO_CHANNELS, AUDIO_SAMPLE_RATE } from './synthetic-media';

export interface VideoShape {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

const AUDIO_BITRATE = 32_000;
const VIDEO_MAX_BITRATE = 750_000;

/**
 * The call media profile (spec calls-media §2.3) every simulated call carries: raw sources, so the
 * media service transcodes PCM → Opus and I420 → VP8. Every required field is spelled out, since a
 * present `audio`/`video` object gets no struct defaults.
 */
export function simulationProfile(video: VideoShape): Record<string, unknown> {
  return {
    audio: { codec: 'opus', bitrate: AUDIO_BITRATE, sample_rate: AUDIO_SAMPLE_RATE, channels: AUDIO_CHANNELS, fec: true, dtx: false, source: 'raw' },
    video: {
      codec: 'vp8',
      max_bitrate: VIDEO_MAX_BITRATE,
      max_resolution: { width: video.width, height: video.height },
      frame_rate: video.fps,
      source: 'raw',
    },
  };
}
