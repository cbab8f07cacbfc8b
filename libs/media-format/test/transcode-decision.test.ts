import type { MediaPayload } from '../src/media-envelope';
import type { CallMediaProfile, VideoParameters } from '../src/media-types';
import { decideMediaProcessing, planForReceiver, selectVideoTarget } from '../src/transcode-decision';

const video: VideoParameters = { codec: 'vp8', max_bitrate: 750_000, max_resolution: { width: 640, height: 360 }, frame_rate: 24 };
const profile: CallMediaProfile = { audio: { codec: 'opus', bitrate: 16_000, sample_rate: 48_000, channels: 1 }, video };
const audioOnly: CallMediaProfile = { audio: profile.audio, video: null };
const body = Buffer.from([1, 2, 3]);

function payload(kind: 'audio' | 'video', source: MediaPayload['source'], codec: MediaPayload['codec']): MediaPayload {
  return { kind, source, codec, body };
}

describe('decideMediaProcessing', () => {
  it.each([
    ['audio', 'encoded', 'opus'],
    ['audio', 'hybrid', 'opus'],
    ['video', 'encoded', 'vp8'],
    ['video', 'encoded', 'vp9'],
    ['video', 'hybrid', 'vp9'],
  ] as const)('passes %s %s %s through untouched', (kind, source, codec) => {
    const input = payload(kind, source, codec);
    const decision = decideMediaProcessing(input, profile);
    expect(decision).toEqual({ action: 'passthrough', payload: input });
  });

  it('transcodes raw PCM to Opus when the profile’s audio codec is Opus', () => {
    expect(decideMediaProcessing(payload('audio', 'raw', 'raw_pcm'), profile)).toMatchObject({ action: 'transcode', target: 'opus' });
    // the codec byte is ignored for raw input, as in the reference
    expect(decideMediaProcessing(payload('audio', 'raw', 'opus'), profile)).toMatchObject({ action: 'transcode', target: 'opus' });
    // a raw codec is raw even when the source byte says encoded
    expect(decideMediaProcessing(payload('audio', 'encoded', 'raw_pcm'), profile)).toMatchObject({ action: 'transcode', target: 'opus' });
  });

  it('transcodes raw I420 to VP8 when the call has video', () => {
    expect(decideMediaProcessing(payload('video', 'raw', 'raw_i420'), profile)).toMatchObject({ action: 'transcode', target: 'vp8' });
  });

  it('drops raw media the profile gives no target for (instead of closing the connection)', () => {
    const pcmCall: CallMediaProfile = { audio: { ...profile.audio, codec: 'raw_pcm' } };
    expect(decideMediaProcessing(payload('audio', 'raw', 'raw_pcm'), pcmCall)).toMatchObject({ action: 'drop', error: { code: 'unsupported' } });
    expect(decideMediaProcessing(payload('video', 'raw', 'raw_i420'), audioOnly)).toMatchObject({ action: 'drop', error: { code: 'unsupported' } });
    const vp9Call: CallMediaProfile = { ...profile, video: { ...video, codec: 'vp9' } };
    expect(decideMediaProcessing(payload('video', 'raw', 'raw_i420'), vp9Call)).toMatchObject({ action: 'drop', error: { code: 'unsupported' } });
  });

  it('refuses encoded codecs it can neither forward nor decode', () => {
    for (const codec of ['h264_baseline', 'h264_main', 'h265_main', 'av1_main'] as const) {
      expect(decideMediaProcessing(payload('video', 'encoded', codec), profile)).toMatchObject({ action: 'drop', error: { code: 'unsupported_codec' } });
    }
  });

  it('selects the video target like the reference: preferred first, then codec, VP8 otherwise', () => {
    expect(selectVideoTarget({ ...video, codec: 'vp9', preferred_codecs: ['h264_main', 'vp8'] })).toBe('vp8');
    expect(selectVideoTarget({ ...video, codec: 'vp9' })).toBe('vp9');
    expect(selectVideoTarget({ ...video, codec: 'h264_main' })).toBe('vp8');
  });
});

describe('planForReceiver', () => {
  it('forwards Opus to any Opus receiver whatever its rate or channels', () => {
    const stereo: CallMediaProfile = { audio: { codec: 'opus', bitrate: 64_000, sample_rate: 24_000, channels: 2 } };
    expect(planForReceiver({ kind: 'audio', source: 'encoded', codec: 'opus' }, stereo)).toEqual({ plan: 'forward' });
  });

  it('forwards video the receiver decodes at a size it allows', () => {
    expect(planForReceiver({ kind: 'video', source: 'raw', codec: 'vp8', resolution: { width: 640, height: 360 } }, profile)).toEqual({ plan: 'forward' });
    const takesVp9: CallMediaProfile = { ...profile, video: { ...video, preferred_codecs: ['vp9'] } };
    expect(planForReceiver({ kind: 'video', source: 'encoded', codec: 'vp9' }, takesVp9)).toEqual({ plan: 'forward' });
  });

  it('gives a receiver its own scaled stream when the sender’s picture is too large', () => {
    const small: CallMediaProfile = { ...profile, video: { ...video, max_resolution: { width: 320, height: 180 } } };
    expect(planForReceiver({ kind: 'video', source: 'raw', codec: 'vp8', resolution: { width: 640, height: 360 } }, small))
      .toEqual({ plan: 'transcode', reason: 'resolution', codec: 'vp8', resolution: { width: 320, height: 180 } });
  });

  it('gives a VP8-only receiver its own stream of a raw sender encoded for someone else as VP9', () => {
    expect(planForReceiver({ kind: 'video', source: 'raw', codec: 'vp9', resolution: { width: 640, height: 360 } }, profile))
      .toEqual({ plan: 'transcode', reason: 'codec', codec: 'vp8', resolution: { width: 640, height: 360 } });
  });

  it('gives a VP8-only receiver a re-encoded stream of an encoded VP9 sender, scaled to fit', () => {
    expect(planForReceiver({ kind: 'video', source: 'encoded', codec: 'vp9', resolution: { width: 640, height: 360 } }, profile))
      .toEqual({ plan: 'transcode', reason: 'codec', codec: 'vp8', resolution: { width: 640, height: 360 } });
    const small: CallMediaProfile = { ...profile, video: { ...video, max_resolution: { width: 320, height: 180 } } };
    expect(planForReceiver({ kind: 'video', source: 'encoded', codec: 'vp8', resolution: { width: 640, height: 360 } }, small))
      .toEqual({ plan: 'transcode', reason: 'resolution', codec: 'vp8', resolution: { width: 320, height: 180 } });
  });

  it('says undeliverable when nothing can help', () => {
    const h264: CallMediaProfile = { ...profile, video: { ...video, codec: 'h264_main' } };
    expect(planForReceiver({ kind: 'video', source: 'encoded', codec: 'h264_main' }, profile)).toMatchObject({ plan: 'undeliverable' });
    expect(planForReceiver({ kind: 'video', source: 'encoded', codec: 'vp9' }, h264)).toMatchObject({ plan: 'undeliverable' });
    expect(planForReceiver({ kind: 'video', source: 'raw', codec: 'vp8' }, audioOnly)).toMatchObject({ plan: 'undeliverable' });
    const pcmOnly: CallMediaProfile = { audio: { ...profile.audio, codec: 'raw_pcm' } };
    expect(planForReceiver({ kind: 'audio', source: 'raw', codec: 'opus' }, pcmOnly)).toMatchObject({ plan: 'undeliverable' });
  });

  it('gives an Opus receiver its own Opus stream of a sender whose stream is raw PCM', () => {
    expect(planForReceiver({ kind: 'audio', source: 'raw', codec: 'raw_pcm' }, profile)).toEqual({ plan: 'transcode', reason: 'codec', codec: 'opus' });
  });

  it('counts preferred and available codecs as accepted', () => {
    const listsOpus: CallMediaProfile = { audio: { ...profile.audio, codec: 'raw_pcm', available_codecs: [{ codec: 'opus' }] } };
    expect(planForReceiver({ kind: 'audio', source: 'encoded', codec: 'opus' }, listsOpus)).toEqual({ plan: 'forward' });
    const prefersOpus: CallMediaProfile = { audio: { ...profile.audio, codec: 'raw_pcm', preferred_codecs: ['opus'] } };
    expect(planForReceiver({ kind: 'audio', source: 'encoded', codec: 'opus' }, prefersOpus)).toEqual({ plan: 'forward' });
  });
});
