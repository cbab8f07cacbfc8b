// Seeded randomness for property-style tests: a failure prints its seed and replays exactly.

import type { JsonValue } from '@commucat/ccp1';

/** mulberry32: tiny, fast, good enough for test data. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  u32(): number {
    return this.int(0, 0xffffffff);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** Channel/sequence values biased towards the varint size boundaries and the u32 edges. */
  u32Interesting(): number {
    return this.pick([0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 0xfffffff, 0x10000000, 0xffffffff, this.u32(), this.int(0, 300)]);
  }
}

const STRING_PIECES = [
  'a', 'Z', '0', ' ', '/', '"', '\\', '\b', '\t', '\n', '\f', '\r', '\u0000', '\u0001', '\u001f',
  '\u007f', 'é', 'ß', '€', '\u2028', '\ue000', '\uffff', '😀', '𝄞', 'key', 'device-1', '{', '}', '[', ':', ',',
];

export function randomString(rng: Prng, maxPieces = 8): string {
  let s = '';
  const count = rng.int(0, maxPieces);
  for (let i = 0; i < count; i++) s += rng.pick(STRING_PIECES);
  return s;
}

function randomNumber(rng: Prng): number | bigint {
  switch (rng.int(0, 6)) {
    case 0:
      return rng.int(-1000, 1000) || 1; // no -0: it would not survive an integer round trip
    case 1:
      return rng.int(0, Number.MAX_SAFE_INTEGER) * (rng.bool() ? 1 : -1) || 7;
    case 2: // beyond 2^53 but within u64 / i64
      return rng.bool()
        ? (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()) | (1n << 60n)
        : -((BigInt(rng.u32()) << 31n) | (1n << 62n));
    case 3:
      return rng.pick([18446744073709551615n, -9223372036854775808n, 9007199254740992n, -9007199254740992n]);
    case 4: // short decimals such as 0.012
      return rng.int(1, 99999) / rng.pick([10, 100, 1000, 1e6, 1e7]) + 0 || 0.5;
    case 5: { // arbitrary finite non-integral doubles from random bits
      for (;;) {
        const view = new DataView(rng.bytes(8).buffer);
        const value = view.getFloat64(0);
        if (Number.isFinite(value) && !Number.isInteger(value)) return value;
      }
    }
    default:
      return rng.pick([0.012, 1.5, -2.25, 1e-7, 1.5e-6, 0.00001, 123.456, 5e-324]);
  }
}

export function randomJson(rng: Prng, depth = 0): JsonValue {
  const leafOnly = depth >= 5;
  switch (rng.int(0, leafOnly ? 4 : 6)) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
    case 3:
      return randomNumber(rng);
    case 4:
      return randomString(rng);
    case 5: {
      const items: JsonValue[] = [];
      const count = rng.int(0, 4);
      for (let i = 0; i < count; i++) items.push(randomJson(rng, depth + 1));
      return items;
    }
    default: {
      const object: { [key: string]: JsonValue } = {};
      const count = rng.int(0, 5);
      for (let i = 0; i < count; i++) object[randomString(rng, 3)] = randomJson(rng, depth + 1);
      return object;
    }
  }
}
