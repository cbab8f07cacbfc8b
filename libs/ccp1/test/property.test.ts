// Seeded property-style tests: random frames round-trip, random JSON round-trips, and arbitrary or
// mutated bytes only ever produce frames or CodecErrors. Change SEED to explore; a failure message
// names the iteration so it can be replayed.

import {
  CodecError,
  type Dialect,
  type Frame,
  FrameStreamDecoder,
  FrameType,
  type JsonValue,
  controlFrame,
  decodeFrame,
  encodeFrame,
  isControlType,
  opaqueFrame,
  parseJson,
  stringifyJson,
} from '@commucat/ccp1';
import { hex } from './support/hex';
import { Prng, randomJson } from './support/random';

const SEED = 0xc0ffee;
const ALL_TYPES = Array.from({ length: 20 }, (_, i) => (i + 1) as FrameType);

function randomFrame(rng: Prng): Frame {
  const type = rng.pick(ALL_TYPES);
  const channel = rng.u32Interesting();
  const sequence = rng.u32Interesting();
  if (isControlType(type)) return controlFrame(type, channel, sequence, randomJson(rng));
  const length = rng.bool(0.05) ? rng.int(300, 70_000) : rng.int(0, 300);
  return opaqueFrame(type, channel, sequence, rng.bytes(length));
}

/** Replaces bigint by number so values can be compared with what JSON.parse produces. */
function toPlainNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(toPlainNumbers);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, toPlainNumbers(member)]));
  }
  return value;
}

describe('random frames round-trip (seeded)', () => {
  const rng = new Prng(SEED);
  const frames = Array.from({ length: 2000 }, () => randomFrame(rng));
  const encoded = frames.map(encodeFrame);

  it('decodeFrame(encodeFrame(f)) equals f and re-encodes to the same bytes', () => {
    frames.forEach((frame, i) => {
      const { frame: decoded, consumed } = decodeFrame(encoded[i] as Buffer);
      expect({ i, consumed }).toEqual({ i, consumed: (encoded[i] as Buffer).length });
      expect({ i, type: decoded.type, channel: decoded.channel, sequence: decoded.sequence }).toEqual({
        i,
        type: frame.type,
        channel: frame.channel,
        sequence: frame.sequence,
      });
      if (frame.payload.kind === 'control') {
        expect(decoded.payload).toEqual(frame.payload);
      } else {
        expect(decoded.payload.kind === 'opaque' && hex(decoded.payload.bytes)).toBe(hex(frame.payload.bytes));
      }
      expect(hex(encodeFrame(decoded))).toBe(hex(encoded[i] as Buffer));
    });
  });

  it('the concatenated stream decodes to the same frames under random chunking', () => {
    const wire = Buffer.concat(encoded);
    const chunkRng = new Prng(SEED + 1);
    const decoder = new FrameStreamDecoder();
    const out: Frame[] = [];
    for (let offset = 0; offset < wire.length; ) {
      const size = chunkRng.pick([1, 2, 3, 7, 100, 1000, 4096, 5000, 70_000]);
      out.push(...decoder.push(wire.subarray(offset, offset + size)));
      offset += size;
    }
    expect(out).toHaveLength(frames.length);
    expect(out.map((frame) => hex(encodeFrame(frame))).join('')).toBe(wire.toString('hex'));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('in dialect 1.0.41, KeyUpdate comes back as its JSON bytes and TransportUpdate is refused', () => {
    frames.forEach((frame, i) => {
      const bytes = encoded[i] as Buffer;
      if (frame.type === FrameType.TransportUpdate) {
        expect(() => decodeFrame(bytes, '1.0.41')).toThrow(new CodecError('InvalidFrameType'));
      } else if (frame.type === FrameType.KeyUpdate && frame.payload.kind === 'control') {
        const { frame: decoded } = decodeFrame(bytes, '1.0.41');
        expect(decoded.payload.kind === 'opaque' && Buffer.from(decoded.payload.bytes).toString('utf8')).toBe(
          stringifyJson(frame.payload.value),
        );
      }
    });
  });
});

describe('random JSON round-trips (seeded)', () => {
  const rng = new Prng(SEED + 2);
  const values = Array.from({ length: 2000 }, () => randomJson(rng));

  it('parseJson(stringifyJson(v)) equals v, and the text is stable', () => {
    values.forEach((value, i) => {
      const text = stringifyJson(value);
      const parsed = parseJson(text);
      expect({ i, parsed }).toEqual({ i, parsed: value });
      expect(stringifyJson(parsed)).toBe(text);
      expect(parseJson(Buffer.from(text, 'utf8'))).toEqual(value);
    });
  });

  it('agrees with JSON.parse on our output, and on JSON.stringify output', () => {
    values.forEach((value, i) => {
      const text = stringifyJson(value);
      expect({ i, v: toPlainNumbers(JSON.parse(text)) }).toEqual({ i, v: toPlainNumbers(value) });
      const plain = toPlainNumbers(value);
      expect({ i, v: toPlainNumbers(parseJson(JSON.stringify(plain, null, rng.bool() ? 2 : undefined))) }).toEqual({ i, v: plain });
    });
  });

  it('writes keys sorted by UTF-8 bytes, like a BTreeMap', () => {
    values.forEach((value) => {
      const visit = (node: JsonValue): void => {
        if (Array.isArray(node)) node.forEach(visit);
        else if (node !== null && typeof node === 'object') {
          const keys = Object.keys(node);
          const order = keys.map((key) => Buffer.from(key, 'utf8'));
          const sorted = [...order].sort(Buffer.compare).map((key) => key.toString('utf8'));
          // JSON.stringify quotes strings exactly as serde_json does (no lone surrogates here)
          const expected = '{' + sorted.map((key) => `${JSON.stringify(key)}:${stringifyJson(node[key] as JsonValue)}`).join(',') + '}';
          expect(stringifyJson(node)).toBe(expected);
          Object.values(node).forEach(visit);
        }
      };
      visit(value);
    });
  });
});

describe('hostile input only yields frames or CodecErrors (seeded)', () => {
  const rng = new Prng(SEED + 3);
  const seeds = Array.from({ length: 64 }, () => encodeFrame(randomFrame(rng))).filter((bytes) => bytes.length < 4096);
  seeds.push(Buffer.from('0805090104010203040c06000008' + Buffer.from('{"a":[1]}').toString('hex').slice(0, 16), 'hex'));

  function mutate(source: Buffer): Buffer {
    const bytes = Buffer.from(source);
    const edits = rng.int(1, 4);
    let out = bytes;
    for (let e = 0; e < edits; e++) {
      const at = rng.int(0, Math.max(0, out.length - 1));
      switch (rng.int(0, 5)) {
        case 0: // flip a bit
          if (out.length > 0) out[at] = (out[at] as number) ^ (1 << rng.int(0, 7));
          break;
        case 1: // overwrite with an interesting byte
          if (out.length > 0) out[at] = rng.pick([0x00, 0x01, 0x14, 0x15, 0x22, 0x5c, 0x7b, 0x7f, 0x80, 0xff]);
          break;
        case 2: // truncate
          out = out.subarray(0, at);
          break;
        case 3: // insert random bytes
          out = Buffer.concat([out.subarray(0, at), rng.bytes(rng.int(1, 4)), out.subarray(at)]);
          break;
        case 4: // delete a range
          out = Buffer.concat([out.subarray(0, at), out.subarray(at + rng.int(1, 3))]);
          break;
        default: // append another frame
          out = Buffer.concat([out, rng.pick(seeds)]);
      }
    }
    return out;
  }

  const inputs: Buffer[] = [];
  for (let i = 0; i < 10_000; i++) {
    inputs.push(i % 2 === 0 ? rng.bytes(rng.int(0, 48)) : mutate(rng.pick(seeds)));
  }

  function expectFrameOrCodecError(run: () => void, i: number): void {
    try {
      run();
    } catch (error) {
      if (!(error instanceof CodecError)) throw new Error(`input #${i} threw a non-CodecError: ${String(error)}`);
    }
  }

  it.each<Dialect>(['1.0.103', '1.0.41'])('decodeFrame (%s)', (dialect) => {
    let decoded = 0;
    inputs.forEach((input, i) => {
      expectFrameOrCodecError(() => {
        const { frame, consumed } = decodeFrame(input, dialect);
        expect(consumed).toBeGreaterThan(1);
        expect(consumed).toBeLessThanOrEqual(input.length);
        expect(Number.isInteger(frame.channel) && frame.channel >= 0 && frame.channel <= 0xffffffff).toBe(true);
        expect(Number.isInteger(frame.sequence) && frame.sequence >= 0 && frame.sequence <= 0xffffffff).toBe(true);
        decoded++;
      }, i);
    });
    expect(decoded).toBeGreaterThan(100); // the mutations leave plenty of valid frames to check
  });

  it('FrameStreamDecoder with random chunking', () => {
    inputs.forEach((input, i) => {
      const decoder = new FrameStreamDecoder({ dialect: rng.bool() ? '1.0.103' : '1.0.41' });
      expectFrameOrCodecError(() => {
        for (let offset = 0; offset < input.length; ) {
          const size = rng.int(1, 16);
          decoder.push(input.subarray(offset, offset + size));
          offset += size;
        }
      }, i);
    });
  });

  it('parseJson on mutated JSON text accepts only what JSON.parse accepts', () => {
    for (let i = 0; i < 5000; i++) {
      const source = Buffer.from(stringifyJson(randomJson(rng)), 'utf8');
      const text = mutate(source);
      let ours: unknown;
      let accepted = true;
      try {
        ours = parseJson(text);
      } catch (error) {
        if (!(error instanceof CodecError)) throw new Error(`text #${i} threw a non-CodecError: ${String(error)}`);
        accepted = false;
      }
      if (accepted) {
        const reference = JSON.parse(text.toString('utf8')) as unknown;
        expect({ i, v: toPlainNumbers(ours) }).toEqual({ i, v: toPlainNumbers(reference) });
      }
    }
  });
});
