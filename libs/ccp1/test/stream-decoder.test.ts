import {
  CodecError,
  type Frame,
  FrameStreamDecoder,
  FrameStreamError,
  FrameType,
  MAX_FRAME_LEN,
  encodeVarint,
  controlFrame,
  decodeFrame,
  encodeFrame,
  opaqueFrame,
} from '@commucat/ccp1';
import { hex, unhex } from './support/hex';

const sample: Frame[] = [
  controlFrame(FrameType.Hello, 0, 1, { protocol_version: 1 }),
  opaqueFrame(FrameType.Msg, 9, 1, unhex('01020304')),
  controlFrame(FrameType.Error, 0, 1, { detail: 'pairing required', error: 'handshake', pairing_required: true, title: 'PairingRequired' }),
  opaqueFrame(FrameType.Msg, 300, 128, Buffer.alloc(200, 0xab)),
  controlFrame(FrameType.Ack, 4294967295, 4294967295, { ack: 4294967295 }),
];
const wire = Buffer.concat(sample.map(encodeFrame));

/** Frames compared through their encoding: equal bytes ⇔ equal frames for canonical encodings. */
const encodeAll = (frames: Frame[]): string => frames.map((frame) => hex(encodeFrame(frame))).join('|');

function streamError(run: () => unknown): FrameStreamError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FrameStreamError);
    expect(error).toBeInstanceOf(CodecError);
    return error as FrameStreamError;
  }
  throw new Error('expected a FrameStreamError');
}

describe('FrameStreamDecoder: splitting', () => {
  it('decodes many frames pushed in one chunk', () => {
    const decoder = new FrameStreamDecoder();
    expect(encodeAll(decoder.push(wire))).toBe(encodeAll(sample));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes the same frames whatever byte the stream is split at', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const decoder = new FrameStreamDecoder();
      const frames = [...decoder.push(wire.subarray(0, cut)), ...decoder.push(wire.subarray(cut))];
      expect(encodeAll(frames)).toBe(encodeAll(sample));
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('decodes one frame split at every byte boundary, returning it only when complete', () => {
    const one = encodeFrame(sample[2] as Frame);
    for (let cut = 1; cut < one.length; cut++) {
      const decoder = new FrameStreamDecoder();
      expect(decoder.push(one.subarray(0, cut))).toEqual([]);
      expect(decoder.bufferedBytes).toBe(cut);
      expect(encodeAll(decoder.push(one.subarray(cut)))).toBe(hex(one));
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const decoder = new FrameStreamDecoder();
    const frames: Frame[] = [];
    for (let i = 0; i < wire.length; i++) {
      frames.push(...decoder.push(wire.subarray(i, i + 1)));
      expect(decoder.bufferedBytes).toBeLessThan(300);
    }
    expect(encodeAll(frames)).toBe(encodeAll(sample));
  });

  it('decodes TV-CODEC-13 (512 frames) fed in odd-sized chunks', () => {
    const frames = Array.from({ length: 512 }, (_, i) => opaqueFrame(FrameType.Msg, i, i, Buffer.alloc(16)));
    const bytes = Buffer.concat(frames.map(encodeFrame));
    const decoder = new FrameStreamDecoder();
    const out: Frame[] = [];
    for (let offset = 0; offset < bytes.length; offset += 37) out.push(...decoder.push(bytes.subarray(offset, offset + 37)));
    expect(out).toHaveLength(512);
    expect(out.map((frame) => frame.channel)).toEqual(frames.map((frame) => frame.channel));
  });

  it('decodes a 1 MiB frame arriving in 4 KiB chunks, only after its last chunk', () => {
    const payload = Buffer.alloc(1 << 20);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const bytes = encodeFrame(opaqueFrame(FrameType.VideoFrame, 3, 4, payload));
    const decoder = new FrameStreamDecoder();
    const out: Frame[] = [];
    for (let offset = 0; offset < bytes.length; offset += 4096) {
      const frames = decoder.push(bytes.subarray(offset, offset + 4096));
      if (offset + 4096 < bytes.length) expect(frames).toEqual([]);
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(bytes.length);
      out.push(...frames);
    }
    expect(out).toHaveLength(1);
    const frame = out[0] as Frame;
    expect(frame.payload.kind === 'opaque' && Buffer.compare(Buffer.from(frame.payload.bytes), payload)).toBe(0);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes a 64 KiB frame fed one byte at a time', () => {
    const payload = Buffer.alloc(65536, 0x5a);
    const bytes = encodeFrame(opaqueFrame(FrameType.Msg, 1, 2, payload));
    const decoder = new FrameStreamDecoder();
    const out: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)));
    expect(out).toHaveLength(1);
    const received = (out[0] as Frame).payload;
    expect(received.kind === 'opaque' && Buffer.compare(Buffer.from(received.bytes), payload)).toBe(0);
  });

  it('keeps the rest of a large chunk after the frames it completes', () => {
    const big = encodeFrame(opaqueFrame(FrameType.Msg, 1, 1, Buffer.alloc(100_000, 1)));
    const next = encodeFrame(opaqueFrame(FrameType.Msg, 2, 2, Buffer.alloc(50, 2)));
    const decoder = new FrameStreamDecoder();
    const chunk = Buffer.concat([big, next.subarray(0, 10)]);
    expect(decoder.push(chunk).map((frame) => frame.channel)).toEqual([1]);
    expect(decoder.bufferedBytes).toBe(10);
    chunk.fill(0xee); // the 10 kept bytes were copied out of the large chunk
    expect(decoder.push(next.subarray(10)).map((frame) => frame.channel)).toEqual([2]);
  });

  it('ignores empty chunks', () => {
    const decoder = new FrameStreamDecoder();
    expect(decoder.push(new Uint8Array(0))).toEqual([]);
    expect(decoder.push(wire.subarray(0, 5))).toEqual([]);
    expect(decoder.push(Buffer.alloc(0))).toEqual([]);
    expect(decoder.push(wire.subarray(5))).toHaveLength(sample.length);
  });

  it('returns payloads that stay intact when the decoder refills its buffers', () => {
    const decoder = new FrameStreamDecoder();
    const first = decoder.push(encodeFrame(opaqueFrame(FrameType.Msg, 1, 1, Buffer.alloc(32, 0x11))))[0] as Frame;
    decoder.push(encodeFrame(opaqueFrame(FrameType.Msg, 2, 2, Buffer.alloc(32, 0x22))));
    expect(first.payload.kind === 'opaque' && hex(first.payload.bytes)).toBe('11'.repeat(32));
  });

  it('does not alias a large chunk the caller reuses afterwards', () => {
    const decoder = new FrameStreamDecoder();
    const chunk = encodeFrame(opaqueFrame(FrameType.Msg, 1, 1, Buffer.alloc(8192, 0x33)));
    const frame = decoder.push(chunk)[0] as Frame;
    chunk.fill(0);
    expect(frame.payload.kind === 'opaque' && frame.payload.bytes.every((byte) => byte === 0x33)).toBe(true);
  });

  it('honours the dialect', () => {
    const keyUpdate = encodeFrame(controlFrame(FrameType.KeyUpdate, 5, 2, { type: 'device-key-rotated' }));
    expect((new FrameStreamDecoder().push(keyUpdate)[0] as Frame).payload.kind).toBe('control');
    expect((new FrameStreamDecoder({ dialect: '1.0.41' }).push(keyUpdate)[0] as Frame).payload.kind).toBe('opaque');
    const transportUpdate = encodeFrame(controlFrame(FrameType.TransportUpdate, 7, 9, { call_id: 'c1' }));
    expect(streamError(() => new FrameStreamDecoder({ dialect: '1.0.41' }).push(transportUpdate)).code).toBe('InvalidFrameType');
  });
});

describe('FrameStreamDecoder: limits and errors', () => {
  it('rejects an oversized LEN as soon as it is readable, before any body arrives', () => {
    expect(streamError(() => new FrameStreamDecoder().push(unhex('81808008'))).code).toBe('FrameTooLarge');
    const decoder = new FrameStreamDecoder();
    expect(decoder.push(unhex('81'))).toEqual([]);
    expect(decoder.push(unhex('80'))).toEqual([]);
    expect(decoder.push(unhex('80'))).toEqual([]);
    expect(streamError(() => decoder.push(unhex('08'))).code).toBe('FrameTooLarge');
  });

  it('waits for a frame of exactly 16 MiB without complaint', () => {
    const decoder = new FrameStreamDecoder();
    expect(decoder.push(Buffer.concat([unhex('80808008'), unhex('0500')]))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(6);
  });

  it('applies a smaller maxBufferedBytes to the whole encoded frame', () => {
    const decoder = new FrameStreamDecoder({ maxBufferedBytes: 1024 });
    expect(decoder.push(encodeFrame(opaqueFrame(FrameType.Msg, 0, 0, Buffer.alloc(1024 - 2 - 5))))).toHaveLength(1); // LEN 1022 + 2
    expect(streamError(() => decoder.push(unhex('ff07'))).code).toBe('FrameTooLarge'); // LEN 1023 + 2 > 1024
    expect(() => new FrameStreamDecoder({ maxBufferedBytes: 0 })).toThrow(RangeError);
  });

  it('never holds more than one frame: LEN prefix + MAX_FRAME_LEN', () => {
    const decoder = new FrameStreamDecoder();
    const header = unhex('80808008' + '050000' + 'f9ffff07');
    decoder.push(header);
    const block = Buffer.alloc(1 << 20);
    for (let i = 0; i < 15; i++) decoder.push(block);
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(4 + MAX_FRAME_LEN);
    const nextFrameStart = encodeFrame(opaqueFrame(FrameType.Msg, 1, 1, Buffer.alloc(200))).subarray(0, 100);
    const frames = decoder.push(Buffer.concat([Buffer.alloc((1 << 20) - header.length + 4), nextFrameStart]));
    expect(frames).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(100);
  });

  it('reports VarintOverflow in a LEN split across chunks', () => {
    const decoder = new FrameStreamDecoder();
    expect(decoder.push(unhex('ffffffffff'))).toEqual([]);
    expect(streamError(() => decoder.push(unhex('ffffffffff'))).code).toBe('VarintOverflow');
  });

  describe('T6: complete frames that decode as UnexpectedEof throw instead of stalling', () => {
    it.each([
      ['LEN = 0', '00'],
      ['a payload running past LEN', '0505000005aa'],
      ['a channel varint running past LEN', '020580'],
      ['a payload running past LEN, more bytes following', '0505000002aa' + '080509010401020304'],
    ])('%s', (_what, input) => {
      // decodeFrame keeps the crate behaviour: UnexpectedEof, which means "wait"…
      expect(() => decodeFrame(unhex(input))).toThrow(new CodecError('UnexpectedEof'));
      // …but the stream decoder knows every byte of the frame is there.
      const error = streamError(() => new FrameStreamDecoder().push(unhex(input)));
      expect(error.code).toBe('UnexpectedEof');
      expect(error.message).toBe('unexpected end of frame');
    });

    it('also when the malformed frame arrives byte by byte', () => {
      const decoder = new FrameStreamDecoder();
      const bytes = unhex('0505000005aa');
      for (let i = 0; i < bytes.length - 1; i++) expect(decoder.push(bytes.subarray(i, i + 1))).toEqual([]);
      expect(streamError(() => decoder.push(bytes.subarray(bytes.length - 1))).code).toBe('UnexpectedEof');
    });
  });

  it('hands over the frames decoded before the error and stays failed', () => {
    const decoder = new FrameStreamDecoder();
    const good = encodeFrame(opaqueFrame(FrameType.Msg, 9, 1, unhex('01020304')));
    const error = streamError(() => decoder.push(Buffer.concat([good, good, unhex('0415000000'), good])));
    expect(error.code).toBe('InvalidFrameType');
    expect(error.frames.map((frame) => frame.channel)).toEqual([9, 9]);
    // The bad frame was complete, so the frame behind it is kept in case the caller resumes.
    expect(error.skipped).toEqual({ type: 0x15, channel: 0, sequence: 0 });
    expect(decoder.bufferedBytes).toBe(good.length);
    const again = streamError(() => decoder.push(good));
    expect(again.code).toBe('InvalidFrameType');
    expect(again.frames).toEqual([]);
  });

  it('reports InvalidControlJson, ControlTooLarge and ChannelIdTooLarge like decodeFrame', () => {
    expect(streamError(() => new FrameStreamDecoder().push(unhex('08060000046e6f7065'))).code).toBe('InvalidControlJson');
    expect(streamError(() => new FrameStreamDecoder().push(unhex('080580808080100000'))).code).toBe('ChannelIdTooLarge');
    const junk = encodeFrame(opaqueFrame(FrameType.Ack, 0, 0, Buffer.alloc(262_145, 0x20)));
    expect(streamError(() => new FrameStreamDecoder().push(junk)).code).toBe('ControlTooLarge');
  });
});

describe('FrameStreamDecoder: skipping a complete frame whose body does not decode', () => {
  /** A control frame (Join, channel 9, sequence 12) whose payload bytes are not JSON. */
  const badJson = (): Buffer => {
    const body = Buffer.concat([Buffer.from([FrameType.Join]), encodeVarint(9), encodeVarint(12), encodeVarint(3), Buffer.from('{x]')]);
    return Buffer.concat([encodeVarint(body.length), body]);
  };

  test('reports the bad frame with its header and, after resume(), goes on with the frames behind it', () => {
    const decoder = new FrameStreamDecoder();
    const before = encodeFrame(controlFrame(FrameType.Join, 1, 3, { members: [] }));
    const after = encodeFrame(opaqueFrame(FrameType.Msg, 9, 13, Buffer.from('still here')));
    decoder.append(Buffer.concat([before, badJson(), after]));
    expect(decoder.next()).toMatchObject({ type: FrameType.Join, channel: 1, sequence: 3 });
    let error: unknown;
    try {
      decoder.next();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FrameStreamError);
    expect((error as FrameStreamError).code).toBe('InvalidControlJson');
    expect((error as FrameStreamError).skipped).toEqual({ type: FrameType.Join, channel: 9, sequence: 12 });
    // Without resume the decoder stays dead, as before.
    expect(() => decoder.next()).toThrow(FrameStreamError);
    expect(decoder.resume()).toBe(true);
    const next = decoder.next()!;
    expect(next).toMatchObject({ type: FrameType.Msg, channel: 9, sequence: 13 });
    expect(Buffer.from((next.payload as { bytes: Uint8Array }).bytes).toString()).toBe('still here');
    expect(decoder.next()).toBeUndefined();
  });

  test('a framing error (LEN beyond the limit) is not skippable: resume() refuses', () => {
    const decoder = new FrameStreamDecoder();
    decoder.append(Buffer.from('ffffffff0f', 'hex'));
    let error: FrameStreamError | undefined;
    try {
      decoder.next();
    } catch (err) {
      error = err as FrameStreamError;
    }
    expect(error?.code).toBe('FrameTooLarge');
    expect(error?.skipped).toBeUndefined();
    expect(decoder.resume()).toBe(false);
    expect(() => decoder.next()).toThrow(FrameStreamError);
  });
});
