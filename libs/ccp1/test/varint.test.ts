import { CodecError, MAX_VARINT_LEN, decodeVarint, encodeVarint, varintLength } from '@commucat/ccp1';
import { hex, unhex } from './support/hex';

describe('varint (§1.2)', () => {
  const examples: Array<[bigint, string]> = [
    [0n, '00'],
    [127n, '7f'],
    [128n, '8001'],
    [300n, 'ac02'],
    [16384n, '808001'],
    [16777216n, '80808008'],
    [4294967295n, 'ffffffff0f'],
    [2n ** 63n, '80808080808080808001'],
    [2n ** 64n - 1n, 'ffffffffffffffffff01'],
  ];

  it.each(examples)('%p ↔ %s', (value, expected) => {
    expect(hex(encodeVarint(value))).toBe(expected);
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      expect(hex(encodeVarint(Number(value)))).toBe(expected);
      expect(varintLength(Number(value))).toBe(expected.length / 2);
    }
    expect(decodeVarint(unhex(expected))).toEqual({ value, length: expected.length / 2 });
  });

  it('encodes numbers between 2^32 and 2^53 exactly', () => {
    expect(hex(encodeVarint(2 ** 32))).toBe('8080808010');
    expect(hex(encodeVarint(Number.MAX_SAFE_INTEGER))).toBe('ffffffffffffff0f');
    expect(decodeVarint(encodeVarint(Number.MAX_SAFE_INTEGER)).value).toBe(BigInt(Number.MAX_SAFE_INTEGER));
  });

  it('encodes integral numbers above 2^53 through bigint', () => {
    expect(hex(encodeVarint(2 ** 63))).toBe('80808080808080808001');
  });

  it('rejects values outside u64 and non-integers', () => {
    expect(() => encodeVarint(-1)).toThrow(RangeError);
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
    expect(() => encodeVarint(Number.NaN)).toThrow(RangeError);
    expect(() => encodeVarint(-1n)).toThrow(RangeError);
    expect(() => encodeVarint(2n ** 64n)).toThrow(RangeError);
    expect(() => encodeVarint(2 ** 64)).toThrow(RangeError);
  });

  it('accepts non-minimal encodings', () => {
    expect(decodeVarint(unhex('8000'))).toEqual({ value: 0n, length: 2 });
    expect(decodeVarint(unhex('ff80808000'))).toEqual({ value: 127n, length: 5 });
  });

  it('keeps only bit 0 of the 10th byte', () => {
    expect(decodeVarint(unhex('80808080808080808002'))).toEqual({ value: 0n, length: 10 });
    expect(decodeVarint(unhex('8180808080808080807f'))).toEqual({ value: 2n ** 63n + 1n, length: 10 });
  });

  it('fails with VarintOverflow when the 10th byte continues, UnexpectedEof when input ends', () => {
    const code = (input: string, offset = 0): string => {
      try {
        decodeVarint(unhex(input), offset);
        return 'ok';
      } catch (error) {
        expect(error).toBeInstanceOf(CodecError);
        return (error as CodecError).code;
      }
    };
    expect(code('ff'.repeat(MAX_VARINT_LEN))).toBe('VarintOverflow');
    expect(code('80'.repeat(MAX_VARINT_LEN) + '00')).toBe('VarintOverflow');
    expect(code('ff'.repeat(9))).toBe('UnexpectedEof');
    expect(code('')).toBe('UnexpectedEof');
    expect(code('0180', 1)).toBe('UnexpectedEof');
  });

  it('reads at an offset and stops at the first byte without continuation', () => {
    expect(decodeVarint(unhex('ffac0207'), 1)).toEqual({ value: 300n, length: 2 });
  });
});
