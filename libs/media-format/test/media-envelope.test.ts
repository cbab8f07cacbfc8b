import {
  MEDIA_HEADER_CAPABILITY, buildMediaPayload, codecFromName, negotiatesMediaHeader, parseMediaPayload,
} from '../src/media-envelope';
import { MediaError, type MediaErrorCode } from '../src/media-errors';

function errorCode(fn: () => unknown): MediaErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof MediaError) return err.code;
    throw err;
  }
  return undefined;
}

describe('media header (negotiated)', () => {
  it('parses [1, source, codec] + body for audio and video codes', () => {
    const raw = parseMediaPayload('audio', Buffer.from([1, 1, 1, 0xaa, 0xbb]), { header: true });
    expect(raw).toMatchObject({ kind: 'audio', source: 'raw', codec: 'raw_pcm' });
    expect([...raw.body]).toEqual([0xaa, 0xbb]);
    expect(parseMediaPayload('video', Buffer.from([1, 0, 2, 9]), { header: true })).toMatchObject({ source: 'encoded', codec: 'vp9' });
    expect(parseMediaPayload('video', Buffer.from([1, 2, 6, 9]), { header: true })).toMatchObject({ source: 'hybrid', codec: 'av1_main' });
    expect(parseMediaPayload('video', new Uint8Array([1, 1, 0, 7]), { header: true }).codec).toBe('raw_i420');
  });

  it('builds the same bytes it parses', () => {
    const payload = { kind: 'video' as const, source: 'encoded' as const, codec: 'vp8' as const, body: Buffer.from([5, 6, 7]) };
    const wire = buildMediaPayload(payload, true);
    expect([...wire]).toEqual([1, 0, 1, 5, 6, 7]);
    expect(parseMediaPayload('video', wire, { header: true })).toEqual(payload);
  });

  it('gives bad_envelope for short payloads, other versions and unknown source bytes', () => {
    expect(errorCode(() => parseMediaPayload('audio', Buffer.alloc(0), { header: true }))).toBe('bad_envelope');
    expect(errorCode(() => parseMediaPayload('audio', Buffer.from([1, 0, 0]), { header: true }))).toBe('bad_envelope');
    expect(errorCode(() => parseMediaPayload('audio', Buffer.from([2, 0, 0, 1]), { header: true }))).toBe('bad_envelope');
    expect(errorCode(() => parseMediaPayload('audio', Buffer.from([1, 3, 0, 1]), { header: true }))).toBe('bad_envelope');
  });

  it('gives unknown_codec for codec bytes outside the kind’s table', () => {
    expect(errorCode(() => parseMediaPayload('audio', Buffer.from([1, 0, 2, 1]), { header: true }))).toBe('unknown_codec');
    expect(errorCode(() => parseMediaPayload('video', Buffer.from([1, 0, 7, 1]), { header: true }))).toBe('unknown_codec');
    expect(errorCode(() => parseMediaPayload('video', Buffer.from([1, 0, 255, 1]), { header: true }))).toBe('unknown_codec');
  });
});

describe('bare payloads (legacy clients)', () => {
  it('treats the whole payload as a packet of the offer’s codec', () => {
    const opus = Buffer.from([1, 0, 0, 0x78]); // looks like a header, but this peer did not negotiate one
    const parsed = parseMediaPayload('audio', opus, { header: false, codec: 'opus' });
    expect(parsed).toMatchObject({ source: 'encoded', codec: 'opus' });
    expect(parsed.body).toEqual(opus);
  });

  it('marks raw codecs as raw', () => {
    expect(parseMediaPayload('video', Buffer.alloc(6), { header: false, codec: 'raw_i420' }).source).toBe('raw');
  });

  it('strips the header when forwarding to a peer without it', () => {
    const parsed = parseMediaPayload('video', Buffer.from([1, 0, 1, 0x10, 0x02]), { header: true });
    expect([...buildMediaPayload(parsed, false)]).toEqual([0x10, 0x02]);
  });

  it('refuses empty payloads and codecs of the other kind', () => {
    expect(errorCode(() => parseMediaPayload('audio', Buffer.alloc(0), { header: false, codec: 'opus' }))).toBe('bad_envelope');
    expect(errorCode(() => parseMediaPayload('audio', Buffer.from([1]), { header: false, codec: 'vp8' }))).toBe('unknown_codec');
  });
});

describe('codec names and capability', () => {
  it('accepts only the JSON names of the kind', () => {
    expect(codecFromName('video', 'h264_main')).toBe('h264_main');
    expect(errorCode(() => codecFromName('video', 'H264'))).toBe('unknown_codec');
    expect(errorCode(() => codecFromName('audio', 'aac'))).toBe('unknown_codec');
  });

  it('uses the header only for clients that listed the capability', () => {
    expect(negotiatesMediaHeader(['noise', 'zstd'])).toBe(false);
    expect(negotiatesMediaHeader(['noise', MEDIA_HEADER_CAPABILITY])).toBe(true);
  });
});
