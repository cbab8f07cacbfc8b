import { FrameStreamDecoder, FrameType, controlFrame, encodeFrame, opaqueFrame, CodecError } from '@commucat/ccp1';

describe('FrameStreamDecoder pull API', () => {
  const a = encodeFrame(controlFrame(FrameType.Auth, 0, 2, { handshake: 'ab' }));
  const b = encodeFrame(opaqueFrame(FrameType.Msg, 5, 3, Buffer.from('hello')));

  test('next() returns one frame at a time and leaves the rest buffered', () => {
    const decoder = new FrameStreamDecoder();
    decoder.append(Buffer.concat([a, b, Buffer.from([0x09, 0x05])]));
    expect(decoder.next()?.type).toBe(FrameType.Auth);
    expect(decoder.bufferedBytes).toBe(b.length + 2);
    expect(decoder.next()?.type).toBe(FrameType.Msg);
    expect(decoder.next()).toBeUndefined();
    expect(decoder.bufferedBytes).toBe(2);
  });

  test('takeBuffered() hands over undecoded bytes, across chunks, and empties the decoder', () => {
    const decoder = new FrameStreamDecoder();
    const tail = Buffer.from('0011223344556677', 'hex');
    decoder.append(a);
    decoder.append(tail.subarray(0, 3));
    decoder.append(tail.subarray(3));
    expect(decoder.next()?.type).toBe(FrameType.Auth);
    expect(decoder.takeBuffered().equals(tail)).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
    decoder.append(b);
    expect(decoder.next()?.type).toBe(FrameType.Msg);
  });

  test('a codec error from next() is sticky', () => {
    const decoder = new FrameStreamDecoder();
    decoder.append(Buffer.from('0415000000', 'hex'));
    expect(() => decoder.next()).toThrow(CodecError);
    expect(() => decoder.append(a)).toThrow(expect.objectContaining({ code: 'InvalidFrameType' }));
  });
});
