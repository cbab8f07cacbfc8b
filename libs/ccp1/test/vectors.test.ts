// Spec §9.1 codec vectors, §1.8 display strings and §9.6 transport vectors.

import {
  CODEC_ERROR_MESSAGES,
  CodecError,
  type CodecErrorCode,
  type Dialect,
  FrameType,
  MAX_CONTROL_JSON_LEN,
  MAX_FRAME_LEN,
  controlFrame,
  decodeFrame,
  encodeFrame,
  ndjsonLine,
  opaqueFrame,
  sseEvent,
} from '@commucat/ccp1';
import { hex, unhex } from './support/hex';

function decodeError(input: Uint8Array, dialect?: Dialect): CodecErrorCode {
  try {
    decodeFrame(input, dialect);
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return (error as CodecError).code;
  }
  throw new Error('decodeFrame unexpectedly succeeded');
}

function encodeError(run: () => unknown): CodecErrorCode {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return (error as CodecError).code;
  }
  throw new Error('encodeFrame unexpectedly succeeded');
}

describe('CodecError display strings (§1.8)', () => {
  const expected: Record<CodecErrorCode, string> = {
    InvalidFrameType: 'invalid frame type',
    InvalidControlJson: 'invalid control payload',
    UnexpectedEof: 'unexpected end of frame',
    VarintOverflow: 'varint overflow',
    PayloadTooLarge: 'payload exceeds limits',
    FrameTooLarge: 'frame exceeds limits',
    ControlTooLarge: 'control payload exceeds limits',
    ChannelIdTooLarge: 'channel id exceeds limits',
    SequenceTooLarge: 'sequence exceeds limits',
  };

  it.each(Object.entries(expected))('%s displays as "%s"', (code, message) => {
    const error = new CodecError(code as CodecErrorCode);
    expect(error.message).toBe(message);
    expect(String(error)).toBe(`CodecError: ${message}`);
    expect(error.code).toBe(code);
    expect(error).toBeInstanceOf(Error);
  });

  it('has exactly the nine crate variants', () => {
    expect(Object.keys(CODEC_ERROR_MESSAGES).sort()).toEqual(Object.keys(expected).sort());
  });
});

describe('TV-CODEC encode/decode vectors (§9.1)', () => {
  const vectors: Array<[string, ReturnType<typeof controlFrame>, string]> = [
    ['TV-CODEC-01', controlFrame(FrameType.Hello, 0, 1, { protocol_version: 1 }), '1a010001167b2270726f746f636f6c5f76657273696f6e223a317d'],
    ['TV-CODEC-02', opaqueFrame(FrameType.Msg, 9, 1, unhex('01020304')), '080509010401020304'],
    ['TV-CODEC-03', controlFrame(FrameType.Ack, 4294967295, 4294967295, { ack: 4294967295 }), '1e06ffffffff0fffffffff0f127b2261636b223a343239343936373239357d'],
    ['TV-CODEC-05', controlFrame(FrameType.Join, 7, 3, { members: ['device-1'], relay: false }), '2a030703267b226d656d62657273223a5b226465766963652d31225d2c2272656c6179223a66616c73657d'],
    ['TV-CODEC-06', controlFrame(FrameType.Leave, 7, 4, {}), '06040704027b7d'],
    ['TV-CODEC-07', controlFrame(FrameType.Presence, 0, 5, { state: 'online' }), '16080005127b227374617465223a226f6e6c696e65227d'],
    ['TV-CODEC-08', controlFrame(FrameType.Error, 0, 1, { error: 'decode' }), '160d0001127b226572726f72223a226465636f6465227d'],
    [
      'TV-CODEC-09',
      // keys deliberately out of order: the encoder must sort them like serde_json's BTreeMap
      controlFrame(FrameType.Error, 0, 1, { title: 'PairingRequired', error: 'handshake', pairing_required: true, detail: 'pairing required' }),
      '670d0001637b2264657461696c223a2270616972696e67207265717569726564222c226572726f72223a2268616e647368616b65222c2270616972696e675f7265717569726564223a747275652c227469746c65223a2250616972696e675265717569726564227d',
    ],
    [
      'TV-CODEC-10',
      controlFrame(FrameType.KeyUpdate, 5, 2, { type: 'device-key-rotated', rotation_id: 'rot-123' }),
      '39090502357b22726f746174696f6e5f6964223a22726f742d313233222c2274797065223a226465766963652d6b65792d726f7461746564227d',
    ],
    [
      'TV-CODEC-11',
      controlFrame(FrameType.TransportUpdate, 7, 9, { call_id: 'c1', update: 'consent_keepalive', interval_secs: 15 }),
      '44140709407b2263616c6c5f6964223a226331222c22696e74657276616c5f73656373223a31352c22757064617465223a22636f6e73656e745f6b656570616c697665227d',
    ],
  ];

  it.each(vectors)('%s encodes to the crate bytes and decodes back', (_id, frame, expected) => {
    const encoded = encodeFrame(frame);
    expect(hex(encoded)).toBe(expected);
    const decoded = decodeFrame(encoded);
    expect(decoded.consumed).toBe(encoded.length);
    expect(decoded.frame).toEqual(frame.payload.kind === 'opaque' ? { ...frame, payload: { kind: 'opaque', bytes: expect.any(Uint8Array) } } : frame);
    if (frame.payload.kind === 'opaque' && decoded.frame.payload.kind === 'opaque') {
      expect(hex(decoded.frame.payload.bytes)).toBe(hex(frame.payload.bytes));
    }
  });

  it('TV-CODEC-04: Msg ch 300 seq 128 with 200 × ab has a 207-byte body', () => {
    const encoded = encodeFrame(opaqueFrame(FrameType.Msg, 300, 128, Buffer.alloc(200, 0xab)));
    expect(hex(encoded.subarray(0, 8))).toBe('cf0105ac028001c8');
    expect(hex(encoded.subarray(8, 10))).toBe('01ab');
    expect(encoded.length).toBe(2 + 207);
    const { frame, consumed } = decodeFrame(encoded);
    expect(consumed).toBe(209);
    expect(frame).toMatchObject({ type: FrameType.Msg, channel: 300, sequence: 128 });
    expect(frame.payload.kind === 'opaque' && hex(frame.payload.bytes)).toBe('ab'.repeat(200));
  });

  it('TV-CODEC-10: KeyUpdate is Control in 1.0.103 and Opaque (same JSON bytes) in 1.0.41', () => {
    const bytes = unhex('39090502357b22726f746174696f6e5f6964223a22726f742d313233222c2274797065223a226465766963652d6b65792d726f7461746564227d');
    expect(decodeFrame(bytes, '1.0.103').frame.payload).toEqual({
      kind: 'control',
      value: { rotation_id: 'rot-123', type: 'device-key-rotated' },
    });
    const old = decodeFrame(bytes, '1.0.41').frame.payload;
    expect(old.kind).toBe('opaque');
    expect(old.kind === 'opaque' && Buffer.from(old.bytes).toString('utf8')).toBe('{"rotation_id":"rot-123","type":"device-key-rotated"}');
  });

  it('TV-CODEC-11: TransportUpdate is InvalidFrameType for the 1.0.41 decoder', () => {
    const bytes = unhex('44140709407b2263616c6c5f6964223a226331222c22696e74657276616c5f73656373223a31352c22757064617465223a22636f6e73656e745f6b656570616c697665227d');
    expect(decodeFrame(bytes).frame.type).toBe(FrameType.TransportUpdate);
    expect(decodeError(bytes, '1.0.41')).toBe('InvalidFrameType');
  });

  it('TV-CODEC-12: two concatenated frames consume 27 then 9 bytes', () => {
    const both = Buffer.concat([
      encodeFrame(controlFrame(FrameType.Hello, 0, 1, { protocol_version: 1 })),
      encodeFrame(opaqueFrame(FrameType.Msg, 9, 1, unhex('01020304'))),
    ]);
    const first = decodeFrame(both);
    expect(first.consumed).toBe(27);
    expect(first.frame.type).toBe(FrameType.Hello);
    const second = decodeFrame(both.subarray(first.consumed));
    expect(second.consumed).toBe(9);
    expect(second.frame.type).toBe(FrameType.Msg);
  });

  it('TV-CODEC-13: 512 Msg frames with ch = seq = i round-trip', () => {
    const wire = Buffer.concat(Array.from({ length: 512 }, (_, i) => encodeFrame(opaqueFrame(FrameType.Msg, i, i, Buffer.alloc(16)))));
    let offset = 0;
    let count = 0;
    while (offset < wire.length) {
      const { frame, consumed } = decodeFrame(wire.subarray(offset));
      expect(frame.channel).toBe(count);
      expect(frame.sequence).toBe(count);
      expect(frame.payload.kind === 'opaque' && hex(frame.payload.bytes)).toBe('00'.repeat(16));
      offset += consumed;
      count++;
    }
    expect(count).toBe(512);
    expect(offset).toBe(wire.length);
  });
});

describe('TV-DEC decoder vectors (§9.1)', () => {
  const errorVectors: Array<[string, string, CodecErrorCode]> = [
    ['TV-DEC-01', '', 'UnexpectedEof'],
    ['TV-DEC-02', '80', 'UnexpectedEof'],
    ['TV-DEC-03', 'ff'.repeat(9), 'UnexpectedEof'],
    ['TV-DEC-04', 'ff'.repeat(10), 'VarintOverflow'],
    ['TV-DEC-05', 'ffffffffffffffffff01', 'FrameTooLarge'],
    ['TV-DEC-06', '81808008', 'FrameTooLarge'],
    ['TV-DEC-07', '00', 'UnexpectedEof'],
    ['TV-DEC-08', '0415000000', 'InvalidFrameType'],
    ['TV-DEC-09', '0400000000', 'InvalidFrameType'],
    ['TV-DEC-10', '080580808080100000', 'ChannelIdTooLarge'],
    ['TV-DEC-11', '080500808080801000', 'SequenceTooLarge'],
    ['TV-DEC-12', '0705000081808008', 'PayloadTooLarge'],
    ['TV-DEC-13', '0505000005aa', 'UnexpectedEof'],
    ['TV-DEC-14', '08060000046e6f7065', 'InvalidControlJson'],
    ['TV-DEC-15', '0406000000', 'InvalidControlJson'],
  ];

  it.each(errorVectors)('%s: %s → %s', (_id, input, code) => {
    expect(decodeError(unhex(input))).toBe(code);
    expect(decodeError(unhex(input), '1.0.41')).toBe(code);
  });

  it('TV-DEC-16: bytes after the payload inside the body are skipped', () => {
    const { frame, consumed } = decodeFrame(unhex('0705000001aaffff'));
    expect(consumed).toBe(8);
    expect(frame.type).toBe(FrameType.Msg);
    expect(frame.payload.kind === 'opaque' && hex(frame.payload.bytes)).toBe('aa');
  });

  it('TV-DEC-17: a non-minimal LEN (85 00) is accepted', () => {
    const { frame, consumed } = decodeFrame(unhex('850005000001aa'));
    expect(consumed).toBe(7);
    expect(frame.payload.kind === 'opaque' && hex(frame.payload.bytes)).toBe('aa');
  });

  it('TV-DEC-18: an Ack whose payload is `null` decodes as Control(null)', () => {
    expect(decodeFrame(unhex('08060000046e756c6c')).frame.payload).toEqual({ kind: 'control', value: null });
  });

  function ackWithJsonString(letters: number): Buffer {
    return encodeFrame(opaqueFrame(FrameType.Ack, 0, 0, Buffer.from(`"${'a'.repeat(letters)}"`)));
  }

  it('TV-DEC-19: a control payload of exactly 262 144 bytes is accepted', () => {
    const { frame } = decodeFrame(ackWithJsonString(MAX_CONTROL_JSON_LEN - 2));
    expect(frame.payload).toEqual({ kind: 'control', value: 'a'.repeat(MAX_CONTROL_JSON_LEN - 2) });
  });

  it('TV-DEC-20: a control payload of 262 145 bytes fails with ControlTooLarge', () => {
    expect(decodeError(ackWithJsonString(MAX_CONTROL_JSON_LEN - 1))).toBe('ControlTooLarge');
  });

  it('TV-DEC-21: KeyUpdate with payload 0102 is InvalidControlJson in 1.0.103, Opaque in 1.0.41', () => {
    const bytes = unhex('06090000020102');
    expect(decodeError(bytes, '1.0.103')).toBe('InvalidControlJson');
    const { frame } = decodeFrame(bytes, '1.0.41');
    expect(frame.payload.kind === 'opaque' && hex(frame.payload.bytes)).toBe('0102');
  });

  it('TV-DEC-22: a non-minimal channel varint (89 00) is accepted', () => {
    const { frame, consumed } = decodeFrame(unhex('09058900010401020304'));
    expect(consumed).toBe(10);
    expect(frame).toMatchObject({ type: FrameType.Msg, channel: 9, sequence: 1 });
  });
});

describe('decoder check order and body bounds (§1.6)', () => {
  it('reports FrameTooLarge before looking at the buffer size (T8)', () => {
    expect(decodeError(unhex('81808008' + '05'))).toBe('FrameTooLarge');
  });

  it('checks the buffer size before LEN == 0 and the type byte', () => {
    expect(decodeError(unhex('05ff'))).toBe('UnexpectedEof'); // type 0xff, but the body is incomplete
  });

  it('checks the type byte before the channel varint', () => {
    expect(decodeError(unhex('0b00' + 'ff'.repeat(10)))).toBe('InvalidFrameType');
  });

  it('reads varints only inside the body: running past LEN is UnexpectedEof even if bytes follow', () => {
    expect(decodeError(unhex('0205800000000000'))).toBe('UnexpectedEof'); // channel varint cut by LEN
    expect(decodeError(unhex('03050080' + '00000000'))).toBe('UnexpectedEof'); // seq cut by LEN
    expect(decodeError(unhex('0405000080' + '000000'))).toBe('UnexpectedEof'); // PLEN cut by LEN
    expect(decodeError(unhex('0505000002aa' + 'bb'))).toBe('UnexpectedEof'); // payload cut by LEN
  });

  it('reports a 10-byte continuation inside the body as VarintOverflow', () => {
    expect(decodeError(unhex('0c05' + 'ff'.repeat(10) + '00'))).toBe('VarintOverflow');
  });

  it('keeps only bit 0 of a 10th varint byte, like a u64', () => {
    // channel = 9 written in 10 bytes whose last byte is 0x7e: bits above 63 fall off
    const channel = '89' + '80'.repeat(8) + '7e';
    expect(decodeFrame(unhex('0d05' + channel + '01' + '00')).frame.channel).toBe(9);
    // the same with the last byte 0x01 sets bit 63 → far above u32
    expect(decodeError(unhex('0d05' + '89' + '80'.repeat(8) + '01' + '0100'))).toBe('ChannelIdTooLarge');
  });

  it('checks ChannelIdTooLarge before SequenceTooLarge and PayloadTooLarge', () => {
    expect(decodeError(unhex('0f05' + '8080808010' + '8080808010' + '81808008'))).toBe('ChannelIdTooLarge');
    expect(decodeError(unhex('0b0500' + '8080808010' + '81808008'))).toBe('SequenceTooLarge');
  });

  it('checks ControlTooLarge before parsing the JSON', () => {
    const junk = Buffer.alloc(MAX_CONTROL_JSON_LEN + 1, 0x78);
    expect(decodeError(encodeFrame(opaqueFrame(FrameType.Ack, 0, 0, junk)))).toBe('ControlTooLarge');
  });

  it('accepts the largest u32 channel and sequence', () => {
    const { frame } = decodeFrame(unhex('0c05ffffffff0fffffffff0f00'));
    expect(frame.channel).toBe(0xffffffff);
    expect(frame.sequence).toBe(0xffffffff);
  });

  it('returns opaque payloads that do not alias the input buffer', () => {
    const input = unhex('080509010401020304');
    const { frame } = decodeFrame(input);
    input.fill(0);
    expect(frame.payload.kind === 'opaque' && hex(frame.payload.bytes)).toBe('01020304');
  });

  it('decodes from a plain Uint8Array at a non-zero byteOffset', () => {
    const backing = new Uint8Array([0xee, 0xee, ...unhex('06040704027b7d')]);
    const { frame, consumed } = decodeFrame(backing.subarray(2));
    expect(consumed).toBe(7);
    expect(frame).toEqual({ type: FrameType.Leave, channel: 7, sequence: 4, payload: { kind: 'control', value: {} } });
  });
});

describe('encoder error vectors (§9.1, §1.7)', () => {
  it('channel 2^32 → ChannelIdTooLarge', () => {
    expect(encodeError(() => encodeFrame(opaqueFrame(FrameType.Msg, 2 ** 32, 0, Buffer.alloc(0))))).toBe('ChannelIdTooLarge');
  });

  it('sequence 2^32 → SequenceTooLarge', () => {
    expect(encodeError(() => encodeFrame(opaqueFrame(FrameType.Msg, 0, 2 ** 32, Buffer.alloc(0))))).toBe('SequenceTooLarge');
  });

  it('Ack with a JSON string of 262 143 letters → ControlTooLarge', () => {
    expect(encodeError(() => encodeFrame(controlFrame(FrameType.Ack, 0, 0, 'a'.repeat(262_143))))).toBe('ControlTooLarge');
    // 262 142 letters make exactly 262 144 bytes: allowed
    expect(encodeFrame(controlFrame(FrameType.Ack, 0, 0, 'a'.repeat(262_142))).length).toBe(3 + 1 + 1 + 1 + 3 + MAX_CONTROL_JSON_LEN);
  });

  it('counts ControlTooLarge in UTF-8 bytes, not UTF-16 units', () => {
    // 131 072 × "é" is 262 144 bytes of text plus 2 quotes
    expect(encodeError(() => encodeFrame(controlFrame(FrameType.Ack, 0, 0, 'é'.repeat(131_072))))).toBe('ControlTooLarge');
    expect(() => encodeFrame(controlFrame(FrameType.Ack, 0, 0, 'é'.repeat(131_071)))).not.toThrow();
  });

  it('Msg ch 0 seq 0 with 16 777 209 bytes encodes to a body of exactly 16 MiB', () => {
    const encoded = encodeFrame(opaqueFrame(FrameType.Msg, 0, 0, Buffer.alloc(16_777_209, 7)));
    expect(encoded.length).toBe(4 + MAX_FRAME_LEN);
    expect(hex(encoded.subarray(0, 11))).toBe('80808008' + '05' + '00' + '00' + 'f9ffff07');
    const { frame, consumed } = decodeFrame(encoded);
    expect(consumed).toBe(encoded.length);
    expect(frame.payload.kind === 'opaque' && frame.payload.bytes.length).toBe(16_777_209);
  });

  it('16 777 210 bytes → FrameTooLarge; 16 777 217 bytes → PayloadTooLarge', () => {
    expect(encodeError(() => encodeFrame(opaqueFrame(FrameType.Msg, 0, 0, Buffer.alloc(16_777_210))))).toBe('FrameTooLarge');
    expect(encodeError(() => encodeFrame(opaqueFrame(FrameType.Msg, 0, 0, Buffer.alloc(16_777_217))))).toBe('PayloadTooLarge');
    expect(encodeError(() => encodeFrame(opaqueFrame(FrameType.Msg, 0, 0, Buffer.alloc(MAX_FRAME_LEN))))).toBe('FrameTooLarge');
  });

  it('runs the checks in the crate order', () => {
    const tooBig = Buffer.alloc(MAX_FRAME_LEN + 1);
    expect(encodeError(() => encodeFrame(opaqueFrame(FrameType.Msg, 2 ** 32, 2 ** 32, tooBig)))).toBe('ChannelIdTooLarge');
    expect(encodeError(() => encodeFrame(opaqueFrame(FrameType.Msg, 0, 2 ** 32, tooBig)))).toBe('SequenceTooLarge');
    const unserializable = { f: (() => 1) as unknown as number };
    expect(encodeError(() => encodeFrame(controlFrame(FrameType.Ack, 0, 2 ** 32, unserializable)))).toBe('SequenceTooLarge');
    expect(encodeError(() => encodeFrame(controlFrame(FrameType.Ack, 0, 0, unserializable)))).toBe('InvalidControlJson');
  });

  it('rejects a type byte that is not a frame type, and negative or fractional ids', () => {
    expect(encodeError(() => encodeFrame(opaqueFrame(0x15 as FrameType, 0, 0, Buffer.alloc(0))))).toBe('InvalidFrameType');
    expect(() => encodeFrame(opaqueFrame(FrameType.Msg, -1, 0, Buffer.alloc(0)))).toThrow(RangeError);
    expect(() => encodeFrame(opaqueFrame(FrameType.Msg, 0, 1.5, Buffer.alloc(0)))).toThrow(RangeError);
  });

  it('writes whatever payload kind it is given (Msg with a JSON value, Ack with raw bytes)', () => {
    expect(hex(encodeFrame(controlFrame(FrameType.Msg, 1, 2, { pong: true })))).toBe(
      '11050102' + '0d' + Buffer.from('{"pong":true}').toString('hex'),
    );
    expect(hex(encodeFrame(opaqueFrame(FrameType.Ack, 0, 0, Buffer.from('{}'))))).toBe('06060000027b7d');
  });
});

describe('transport encodings (§9.6)', () => {
  const unit = unhex('160d0001127b226572726f72223a226465636f6465227d'); // TV-CODEC-08

  it('TV-SSE-01', () => {
    expect(sseEvent(1, unit)).toBe('event: frame\nid: 1\ndata: Fg0AARJ7ImVycm9yIjoiZGVjb2RlIn0=\n\n');
  });

  it('TV-NDJSON-01', () => {
    const frame = decodeFrame(unit).frame;
    expect(ndjsonLine(frame, unit)).toBe('{"channel":0,"data":"Fg0AARJ7ImVycm9yIjoiZGVjb2RlIn0=","sequence":1,"type":"error"}\n');
  });

  it('encodes a unit that is a view into a larger buffer', () => {
    const backing = Buffer.concat([Buffer.from([0xff, 0xff]), unit]);
    expect(sseEvent(7, backing.subarray(2))).toBe('event: frame\nid: 7\ndata: Fg0AARJ7ImVycm9yIjoiZGVjb2RlIn0=\n\n');
  });

  it('uses the frame label and u32 fields in NDJSON', () => {
    const frame = opaqueFrame(FrameType.VoiceFrame, 4294967295, 12, Buffer.from([0xfb]));
    expect(ndjsonLine(frame, Buffer.from([0xfb, 0xff]))).toBe('{"channel":4294967295,"data":"+/8=","sequence":12,"type":"voice_frame"}\n');
  });
});
