import { CodecError } from './errors';
import type { JsonValue } from './json-value';

// Writes JSON the way serde_json writes a `Value` from Rust (spec §1.5), so that bytes the TS side
// produces match the reference: compact, object keys sorted by their UTF-8 bytes (serde_json's
// Map is a BTreeMap), Rust's string escapes, exact big integers.
//
// Numbers: bigint and integral numbers are written as plain integers (never `1.0`, trap T11);
// other finite numbers in the shortest round-trip form using ryu's layout, which differs from
// JS only for 1e-6 ≤ |x| < 1e-5 (ryu: `1.5e-6`, JS: `0.0000015`); NaN and ±Infinity become null.
// `undefined` object members are left out and `undefined` array items become null, as in
// JSON.stringify; objects with toJSON (Date, Buffer) are written through it.
// Strings are JS strings: a lone surrogate cannot be written as UTF-8 and becomes U+FFFD once the
// text is encoded to bytes.

export interface StringifyJsonOptions {
  /** Sort object keys by UTF-8 bytes like serde_json's BTreeMap (default true). */
  sortKeys?: boolean;
}

/** Guards against cyclic values; far deeper than anything the parser (127 levels) can produce. */
const MAX_WRITE_DEPTH = 1024;

export function stringifyJson(value: JsonValue, options?: StringifyJsonOptions): string {
  const out = writeValue(value, options?.sortKeys !== false, 0);
  if (out === undefined) throw new CodecError('InvalidControlJson');
  return out;
}

/** Returns undefined for values JSON cannot hold at this position (undefined). */
function writeValue(value: unknown, sortKeys: boolean, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      return formatNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'object':
      if (value === null) return 'null';
      if (depth >= MAX_WRITE_DEPTH) throw new CodecError('InvalidControlJson');
      if (Array.isArray(value)) return writeArray(value, sortKeys, depth + 1);
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return writeValue((value as { toJSON(): unknown }).toJSON(), sortKeys, depth + 1);
      }
      return writeObject(value as Record<string, unknown>, sortKeys, depth + 1);
    default:
      // functions and symbols have no JSON form: serialization fails
      throw new CodecError('InvalidControlJson');
  }
}

function writeArray(items: readonly unknown[], sortKeys: boolean, depth: number): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += writeValue(items[i], sortKeys, depth) ?? 'null';
  }
  return out + ']';
}

function writeObject(object: Record<string, unknown>, sortKeys: boolean, depth: number): string {
  const keys = Object.keys(object);
  if (sortKeys && keys.length > 1) keys.sort(compareUtf8);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = writeValue(object[key], sortKeys, depth);
    if (member === undefined) continue;
    out += first ? quoteString(key) : ',' + quoteString(key);
    out += ':' + member;
    first = false;
  }
  return out + '}';
}

/**
 * Orders strings by their UTF-8 bytes, which is code point order. It differs from JS's default
 * UTF-16 order only when a surrogate (U+10000 and up) meets a code unit in U+E000–U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca - cb;
  }
  return a.length - b.length;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

export function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let chunkStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(chunkStart, i);
    out += SHORT_ESCAPES[c] ?? '\\u00' + (c < 0x10 ? '0' : '') + c.toString(16);
    chunkStart = i + 1;
  }
  return out + s.slice(chunkStart) + '"';
}

export function formatNumber(n: number): string {
  if (Number.isInteger(n)) {
    // String(-0) is "0". Beyond 2^53 String() rounds to zeros (2^60 → "…847000") and from 1e21
    // on it uses exponent form, so those are written from their exact value instead.
    return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
  }
  if (!Number.isFinite(n)) return 'null';
  const magnitude = Math.abs(n);
  // ryu writes "0.0000ddd" only while the decimal exponent is above -5; JS goes one further.
  if (magnitude < 1e-5 && magnitude >= 1e-6) return n.toExponential();
  return String(n);
}
