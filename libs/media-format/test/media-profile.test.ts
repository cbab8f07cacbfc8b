import {
  DEFAULT_CALL_MEDIA_PROFILE, MediaError, parseCallMediaProfile, parseCallMediaProfileJson, transcodeTargetFor,
  type MediaErrorCode,
} from '../src';

function failure(fn: () => unknown): { code: MediaErrorCode; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof MediaError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a MediaError');
}

const audio = { codec: 'opus', bitrate: 24_000, sample_rate: 48_000, channels: 1 };
const video = { codec: 'vp8', max_bitrate: 750_000, max_resolution: { width: 640, height: 360 }, frame_rate: 24 };

describe('parseCallMediaProfile', () => {
  it('fills absent defaulted fields with their type defaults, not the struct defaults', () => {
    const profile = parseCallMediaProfile({ audio, video });
    expect(profile).toEqual({
      audio: { ...audio, fec: false, dtx: false, source: 'encoded', preferred_codecs: [], available_codecs: [], allow_passthrough: false },
      video: {
        ...video, adaptive: false, source: 'encoded', preferred_codecs: [], available_codecs: [], hardware: [],
        allow_passthrough: false, capabilities: null,
      },
      mode: 'full_duplex',
      capabilities: null,
    });
  });

  it('gives the struct defaults for an offer without media', () => {
    const profile = parseCallMediaProfile(undefined);
    expect(profile).toBe(DEFAULT_CALL_MEDIA_PROFILE);
    expect(profile.audio).toMatchObject({ codec: 'opus', bitrate: 16_000, sample_rate: 48_000, channels: 1, fec: true, dtx: true, source: 'raw', preferred_codecs: ['opus'] });
    expect(profile.video).toBeNull();
  });

  it('keeps what the sender wrote, descriptors and capabilities included, and ignores unknown fields', () => {
    const profile = parseCallMediaProfile({
      audio: { ...audio, fec: true, source: 'raw', available_codecs: [{ codec: 'raw_pcm', channels: 2 }], future_field: 1 },
      video: { ...video, preferred_codecs: ['vp9', 'vp8'], hardware: ['cpu', 'nvidia'], capabilities: { allow_raw_video: true } },
      mode: 'half_duplex',
      extra: { anything: true },
    });
    expect(profile.audio).toMatchObject({ fec: true, source: 'raw', available_codecs: [{ codec: 'raw_pcm', channels: 2, bitrate: null, sample_rate: null, priority: 0 }] });
    expect(profile.audio).not.toHaveProperty('future_field');
    expect(profile.video).toMatchObject({ preferred_codecs: ['vp9', 'vp8'], hardware: ['cpu', 'nvidia'], capabilities: { audio: [], video: [], allow_raw_audio: false, allow_raw_video: true } });
    expect(profile.mode).toBe('half_duplex');
    expect(profile).not.toHaveProperty('extra');
  });

  it('accepts null for Option fields only', () => {
    expect(parseCallMediaProfile({ audio, video: null, capabilities: null }).video).toBeNull();
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, fec: null } }))).toEqual({ code: 'bad_profile', message: 'media.audio.fec must be present and not null' });
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, bitrate: null } })).message).toBe('media.audio.bitrate must be present and not null');
  });

  it('names the missing required field', () => {
    expect(failure(() => parseCallMediaProfile({ video }))).toEqual({ code: 'bad_profile', message: 'media.audio must be present' });
    const { max_resolution: _dropped, ...noResolution } = video;
    expect(failure(() => parseCallMediaProfile({ audio, video: noResolution })).message).toBe('media.video.max_resolution must be present');
    expect(failure(() => parseCallMediaProfile({ audio, video: { ...video, max_resolution: { width: 640 } } })).message).toBe('media.video.max_resolution.height must be present');
  });

  it('holds integers to their Rust types', () => {
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, channels: 256 } })).message).toBe('media.audio.channels must be an integer in 0..255');
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, bitrate: 16_000.5 } })).code).toBe('bad_profile');
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, sample_rate: -1 } })).code).toBe('bad_profile');
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, bitrate: 2 ** 32 } })).code).toBe('bad_profile');
    expect(failure(() => parseCallMediaProfile({ audio, video: { ...video, max_resolution: { width: 70_000, height: 360 } } })).message)
      .toBe('media.video.max_resolution.width must be an integer in 0..65535');
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, bitrate: '16000' } })).code).toBe('bad_profile');
  });

  it('takes bigints (the CCP-1 JSON parser) that fit the field', () => {
    expect(parseCallMediaProfile({ audio: { ...audio, bitrate: 32_000n } }).audio.bitrate).toBe(32_000);
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, bitrate: 2n ** 40n } })).code).toBe('bad_profile');
  });

  it('gives unknown_codec for a codec name outside the tables, bad_profile for other enum mistakes', () => {
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, codec: 'aac' } }))).toEqual({ code: 'unknown_codec', message: 'media.audio.codec: unknown audio codec "aac"' });
    expect(failure(() => parseCallMediaProfile({ audio, video: { ...video, preferred_codecs: ['vp8', 'H264'] } })).message)
      .toBe('media.video.preferred_codecs[1]: unknown video codec "H264"');
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, codec: 7 } })).code).toBe('bad_profile');
    expect(failure(() => parseCallMediaProfile({ audio: { ...audio, source: 'live' } })).code).toBe('bad_profile');
    expect(failure(() => parseCallMediaProfile({ audio, mode: 'simplex' })).code).toBe('bad_profile');
  });

  it('refuses values that are not objects where objects belong', () => {
    expect(failure(() => parseCallMediaProfile(null))).toEqual({ code: 'bad_profile', message: 'media must be an object' });
    expect(failure(() => parseCallMediaProfile([audio])).code).toBe('bad_profile');
    expect(failure(() => parseCallMediaProfile({ audio: 'opus' })).message).toBe('media.audio must be an object');
  });
});

describe('parseCallMediaProfileJson', () => {
  it('parses JSON text', () => {
    expect(parseCallMediaProfileJson(JSON.stringify({ audio, video })).video?.max_resolution).toEqual({ width: 640, height: 360 });
  });

  it('refuses text that is not JSON, or JSON that is not a profile, as bad_profile', () => {
    expect(failure(() => parseCallMediaProfileJson('{"audio":')).code).toBe('bad_profile');
    expect(failure(() => parseCallMediaProfileJson('')).code).toBe('bad_profile');
    expect(failure(() => parseCallMediaProfileJson('null')).message).toBe('media must be an object');
  });
});

describe('transcodeTargetFor', () => {
  const profile = parseCallMediaProfile({ audio, video });

  it('encodes raw audio to Opus and raw video to VP8', () => {
    expect(transcodeTargetFor('audio', profile)).toBe('opus');
    expect(transcodeTargetFor('video', profile)).toBe('vp8');
    expect(transcodeTargetFor('video', parseCallMediaProfile({ audio, video: { ...video, codec: 'h264_main' } }))).toBe('vp8');
  });

  it('is unsupported when the profile has nothing to encode to', () => {
    expect(failure(() => transcodeTargetFor('audio', parseCallMediaProfile({ audio: { ...audio, codec: 'raw_pcm' } }))).code).toBe('unsupported');
    expect(failure(() => transcodeTargetFor('video', parseCallMediaProfile({ audio }))).code).toBe('unsupported');
    expect(failure(() => transcodeTargetFor('video', parseCallMediaProfile({ audio, video: { ...video, codec: 'vp9' } }))).message)
      .toMatch(/only VP8 encoding is available/);
  });
});
