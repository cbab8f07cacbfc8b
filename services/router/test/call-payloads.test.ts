import { controlFrame, FrameType, opaqueFrame, parseJson, type JsonValue } from '@commucat/ccp1';
import { parseCallAnswer, parseCallEnd, parseCallOffer, parseCallStats, parseTransportUpdate } from '../src/call-payloads';
import { RouterError } from '../src/errors';

const frame = (type: FrameType, payload: JsonValue) => controlFrame(type, 1, 1, payload);
const AUDIO = { codec: 'opus', bitrate: 16000, sample_rate: 48000, channels: 1 };
const offer = (extra: Record<string, JsonValue> = {}) => ({ call_id: 'k7', from: 'dev-a', to: ['dev-b'], ...extra });

/** The RouterError a parse throws (its message names the field). */
function refusal(parse: () => unknown): RouterError {
  try {
    parse();
  } catch (err) {
    if (err instanceof RouterError) return err;
    throw err;
  }
  throw new Error('expected the payload to be refused');
}

describe('CallOffer (spec calls-media §2.5)', () => {
  test('takes the minimal offer (media defaulted as a whole) and returns what the router stores', () => {
    expect(parseCallOffer(frame(FrameType.CallOffer, offer()))).toEqual({ callId: 'k7', media: undefined, transport: undefined });
  });

  test('takes a full offer: media with video and capabilities, transport with ICE, u64 expires_at beyond 2^53', () => {
    const payload = parseJson(JSON.stringify(offer({
      media: {
        audio: { ...AUDIO, fec: true, source: 'raw', preferred_codecs: ['opus'], available_codecs: [{ codec: 'opus', priority: 100 }] },
        video: {
          codec: 'vp8', max_bitrate: 750000, max_resolution: { width: 640, height: 360 }, frame_rate: 24, hardware: ['cpu', 'nvidia'],
          available_codecs: [{ codec: 'vp9', max_resolution: null, supports_scalability: true }],
        },
        mode: 'half_duplex',
        capabilities: { audio: [], video: [], allow_raw_audio: true },
      },
      transport: {
        prefer_relay: true, fingerprints: ['sha-256 AB'], trickle: true, consent_interval_secs: 15,
        ice_credentials: { username_fragment: 'u', password: 'p', expires_at: null },
        candidates: [{ address: '192.0.2.44', port: 41000, protocol: 'tcp', candidate_type: 'host', tcp_type: 'passive', priority: 4294967295 }],
      },
      metadata: { anything: [1, 'x'] },
      ephemeral_key: null,
    })).toString().replace('"to"', '"expires_at":18446744073709551615,"to"'));
    const parsed = parseCallOffer(frame(FrameType.CallOffer, payload));
    expect(parsed.callId).toBe('k7');
    expect(parsed.media).toMatchObject({ mode: 'half_duplex' });
    expect(parsed.transport).toMatchObject({ trickle: true });
  });

  test('accepts the legacy udp_candidates name, but not both names at once', () => {
    const candidate = { address: '198.51.100.7', port: 50500 };
    expect(() => parseCallOffer(frame(FrameType.CallOffer, offer({ transport: { udp_candidates: [candidate] } })))).not.toThrow();
    expect(refusal(() => parseCallOffer(frame(FrameType.CallOffer, offer({ transport: { udp_candidates: [candidate], candidates: [] } })))).code).toBe('invalid');
    expect(refusal(() => parseCallOffer(frame(FrameType.CallOffer, offer({ transport: { udp_candidates: [{ address: 'x', port: 65536 }] } })))).message)
      .toContain('transport.udp_candidates[0].port');
  });

  test.each<[string, Record<string, JsonValue>, string]>([
    ['an empty call_id', { call_id: '' }, 'call_id'],
    ['a call_id with NUL', { call_id: 'a\u0000b' }, 'call_id'],
    ['a missing from', { from: undefined as unknown as JsonValue }, 'from'],
    ['a non-string entry in to', { to: ['b', 7] }, 'to[1]'],
    ['media: null (defaulted, not an Option)', { media: null }, 'media'],
    ['media without audio', { media: { mode: 'full_duplex' } }, 'media.audio'],
    ['an unknown audio codec', { media: { audio: { ...AUDIO, codec: 'aac' } } }, 'media.audio.codec'],
    ['channels beyond u8', { media: { audio: { ...AUDIO, channels: 256 } } }, 'media.audio.channels'],
    ['a fractional bitrate', { media: { audio: { ...AUDIO, bitrate: 1.5 } } }, 'media.audio.bitrate'],
    ['fec: null on a defaulted bool', { media: { audio: { ...AUDIO, fec: null } } }, 'media.audio.fec'],
    ['a sample rate Opus cannot use', { media: { audio: { ...AUDIO, sample_rate: 44100 } } }, 'media.audio.sample_rate'],
    ['three audio channels', { media: { audio: { ...AUDIO, channels: 3 } } }, 'media.audio.channels'],
    ['a zero-sized video', { media: { audio: AUDIO, video: { codec: 'vp8', max_bitrate: 1, max_resolution: { width: 0, height: 360 }, frame_rate: 24 } } }, 'media.video.max_resolution'],
    ['a negative expires_at', { expires_at: -1 }, 'expires_at'],
    ['a candidate without port', { transport: { candidates: [{ address: 'x' }] } }, 'transport.candidates[0].port'],
    ['an unknown protocol', { transport: { candidates: [{ address: 'x', port: 1, protocol: 'sctp' }] } }, 'transport.candidates[0].protocol'],
  ])('refuses %s', (_what, change, field) => {
    const payload: Record<string, JsonValue> = offer(change);
    for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
    const err = refusal(() => parseCallOffer(frame(FrameType.CallOffer, payload)));
    expect(err.code).toBe('invalid');
    expect(err.detail.startsWith(`${field} must be`)).toBe(true);
  });

  test('expires_at is a u64: 2^64-1 passes, 2^64 does not', () => {
    const withExpiry = (digits: string) => parseJson(`{"call_id":"k7","from":"a","to":[],"expires_at":${digits}}`);
    expect(parseCallOffer(frame(FrameType.CallOffer, withExpiry('18446744073709551615'))).callId).toBe('k7');
    expect(refusal(() => parseCallOffer(frame(FrameType.CallOffer, withExpiry('18446744073709551616')))).detail).toMatch(/^expires_at/);
  });

  test('refuses a payload that is not an object (or not JSON)', () => {
    expect(refusal(() => parseCallOffer(frame(FrameType.CallOffer, ['k7']))).code).toBe('invalid');
    expect(refusal(() => parseCallOffer(opaqueFrame(FrameType.Msg, 1, 1, Buffer.from('x')))).code).toBe('invalid');
  });

  test('ignores unknown fields', () => {
    expect(parseCallOffer(frame(FrameType.CallOffer, offer({ future_field: { x: 1 } }))).callId).toBe('k7');
  });
});

describe('CallAnswer, CallEnd, CallStats (§2.6-§2.8)', () => {
  test('CallAnswer: accept is required, reason must be a CallRejectReason, codecs are checked', () => {
    expect(parseCallAnswer(frame(FrameType.CallAnswer, { call_id: 'k7', accept: false, reason: 'busy' })))
      .toEqual({ callId: 'k7', accept: false, reason: 'busy', media: undefined, transport: undefined });
    expect(parseCallAnswer(frame(FrameType.CallAnswer, { call_id: 'k7', accept: true, media: { audio: AUDIO }, selected_video_codec: 'av1_main' })).media)
      .toEqual({ audio: AUDIO });
    expect(refusal(() => parseCallAnswer(frame(FrameType.CallAnswer, { call_id: 'k7' }))).detail).toMatch(/^accept must be/);
    expect(refusal(() => parseCallAnswer(frame(FrameType.CallAnswer, { call_id: 'k7', accept: 'yes' }))).detail).toMatch(/^accept must be/);
    expect(refusal(() => parseCallAnswer(frame(FrameType.CallAnswer, { call_id: 'k7', accept: false, reason: 'nope' }))).detail).toMatch(/^reason must be/);
    expect(refusal(() => parseCallAnswer(frame(FrameType.CallAnswer, { call_id: 'k7', accept: true, video_hardware: 'tpu' }))).detail).toMatch(/^video_hardware/);
  });

  test('CallEnd: reason is required and must be a CallEndReason', () => {
    expect(parseCallEnd(frame(FrameType.CallEnd, { call_id: 'k7', reason: 'cancel', metadata: 5 }))).toEqual({ callId: 'k7', reason: 'cancel' });
    expect(refusal(() => parseCallEnd(frame(FrameType.CallEnd, { call_id: 'k7' }))).detail).toMatch(/^reason must be present/);
    expect(refusal(() => parseCallEnd(frame(FrameType.CallEnd, { call_id: 'k7', reason: 'rejected' }))).detail).toMatch(/^reason must be one of/);
  });

  test('CallStats: direction required; stream stats need bitrate; packet_loss is a float', () => {
    const stats = { call_id: 'k7', direction: 'send', audio: { bitrate: 32000, packet_loss: 0.25, rtt_ms: null, codec: 'opus' }, timestamp: 1700000000 };
    expect(parseCallStats(frame(FrameType.CallStats, stats))).toEqual({ callId: 'k7', direction: 'send' });
    expect(refusal(() => parseCallStats(frame(FrameType.CallStats, { ...stats, direction: 'both' }))).detail).toMatch(/^direction/);
    expect(refusal(() => parseCallStats(frame(FrameType.CallStats, { ...stats, video: { packet_loss: 0 } }))).detail).toMatch(/^video.bitrate/);
    expect(refusal(() => parseCallStats(frame(FrameType.CallStats, { ...stats, audio: { bitrate: 1, packet_loss: 'lots' } }))).detail).toMatch(/^audio.packet_loss/);
    expect(refusal(() => parseCallStats(frame(FrameType.CallStats, { ...stats, audio: { bitrate: 1, frames_per_second: 300 } }))).detail).toMatch(/^audio.frames_per_second/);
  });
});

describe('TransportUpdate (§2.9)', () => {
  test('takes the three variants of the spec', () => {
    const payloads = [
      '{"call_id":"k7","update":"candidate","candidate":{"address":"192.0.2.44","port":41000,"protocol":"udp","candidate_type":"host","priority":2113937151}}',
      '{"call_id":"k7","update":"selected_candidate_pair","local":{"address":"192.0.2.44","port":41000},"remote":{"address":"198.51.100.7","port":50500},"rtt_ms":35}',
      '{"call_id":"k7","update":"consent_keepalive","interval_secs":15}',
    ].map((text) => parseTransportUpdate(frame(FrameType.TransportUpdate, parseJson(text))));
    expect(payloads).toEqual([
      { callId: 'k7', update: 'candidate', intervalSecs: undefined },
      { callId: 'k7', update: 'selected_candidate_pair', intervalSecs: undefined },
      { callId: 'k7', update: 'consent_keepalive', intervalSecs: 15 },
    ]);
  });

  test('checks the fields of the variant the tag names', () => {
    expect(refusal(() => parseTransportUpdate(frame(FrameType.TransportUpdate, { call_id: 'k7', update: 'candidate' }))).detail).toMatch(/^candidate must be present/);
    expect(refusal(() => parseTransportUpdate(frame(FrameType.TransportUpdate, { call_id: 'k7', update: 'selected_candidate_pair', local: { address: 'a', port: 1 } }))).detail)
      .toMatch(/^remote/);
    expect(refusal(() => parseTransportUpdate(frame(FrameType.TransportUpdate, { call_id: 'k7', update: 'consent_keepalive', interval_secs: 70000 }))).detail)
      .toMatch(/^interval_secs/);
    expect(refusal(() => parseTransportUpdate(frame(FrameType.TransportUpdate, { call_id: 'k7', update: 'restart' }))).detail).toMatch(/^update must be one of/);
  });
});
