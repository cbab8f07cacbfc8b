import { isUtf8 } from 'node:buffer';
import { CodecError } from './errors';
import type { JsonValue } from './json-value';

// A JSON reader that accepts and rejects what `serde_json::from_slice::<Value>` does (spec §1.5),
// keeping u64/i64 values exact. JSON.parse cannot be used: it rounds integers above 2^53.
//
// serde_json rules reproduced here:
// - any JSON value at the top level; only space, \t, \n, \r count as whitespace; nothing may
//   follow the value except whitespace (no BOM, no comments, no trailing commas);
// - serde_json starts with remaining_depth = 128 and fails when a container brings it to 0, so
//   127 nested arrays/objects parse and the 128th is refused;
// - strings: raw control characters (< U+0020) are refused; lone surrogate escapes are refused;
//   byte input must be valid UTF-8;
// - numbers: strict JSON grammar (no leading zeros, no "1.", no "+1"); a number whose value
//   overflows f64 is refused ("number out of range"); duplicate keys: the last one wins.
// Deliberate difference: integers beyond ±(2^53−1) stay exact as bigint, including the ones above
// the u64/i64 range that serde_json would turn into f64.

/** Deepest container nesting serde_json accepts (its budget of 128 fails on reaching 0). */
export const MAX_JSON_NESTING = 127;

let text = '';
let pos = 0;
let end = 0;

function invalid(): never {
  throw new CodecError('InvalidControlJson');
}

/** Parses one JSON document (string, or UTF-8 bytes); throws CodecError('InvalidControlJson'). */
export function parseJson(input: string | Uint8Array): JsonValue {
  if (typeof input === 'string') {
    text = input;
  } else {
    if (!isUtf8(input)) invalid();
    // Buffer#toString keeps a leading U+FEFF (TextDecoder would strip it), so a BOM is refused
    // below, as serde_json refuses it.
    text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  }
  pos = 0;
  end = text.length;
  try {
    skipWhitespace();
    const value = parseValue(0);
    skipWhitespace();
    if (pos !== end) invalid();
    return value;
  } finally {
    text = ''; // do not keep a large payload reachable between calls
  }
}

function skipWhitespace(): void {
  while (pos < end) {
    const c = text.charCodeAt(pos);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
    pos++;
  }
}

function parseValue(depth: number): JsonValue {
  if (pos >= end) invalid();
  const c = text.charCodeAt(pos);
  switch (c) {
    case 0x22: // "
      pos++;
      return parseString();
    case 0x7b: // {
      return parseObject(depth + 1);
    case 0x5b: // [
      return parseArray(depth + 1);
    case 0x74: // t
      return parseLiteral('true', true);
    case 0x66: // f
      return parseLiteral('false', false);
    case 0x6e: // n
      return parseLiteral('null', null);
    default:
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return parseNumber();
      return invalid();
  }
}

function parseLiteral<T extends JsonValue>(word: string, value: T): T {
  if (!text.startsWith(word, pos)) invalid();
  pos += word.length;
  return value;
}

function parseArray(nesting: number): JsonValue[] {
  if (nesting > MAX_JSON_NESTING) invalid();
  pos++; // [
  const items: JsonValue[] = [];
  skipWhitespace();
  if (text.charCodeAt(pos) === 0x5d) {
    pos++;
    return items;
  }
  for (;;) {
    items.push(parseValue(nesting));
    skipWhitespace();
    const c = text.charCodeAt(pos++);
    if (c === 0x2c) {
      skipWhitespace();
      continue;
    }
    if (c === 0x5d) return items;
    return invalid();
  }
}

function parseObject(nesting: number): { [key: string]: JsonValue } {
  if (nesting > MAX_JSON_NESTING) invalid();
  pos++; // {
  const object: { [key: string]: JsonValue } = {};
  skipWhitespace();
  if (text.charCodeAt(pos) === 0x7d) {
    pos++;
    return object;
  }
  for (;;) {
    if (text.charCodeAt(pos) !== 0x22) invalid();
    pos++;
    const key = parseKey();
    skipWhitespace();
    if (text.charCodeAt(pos) !== 0x3a) invalid();
    pos++;
    skipWhitespace();
    const value = parseValue(nesting);
    if (key === '__proto__') {
      // Plain assignment would replace the prototype instead of adding a member.
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      object[key] = value; // a repeated key overwrites: last one wins, as in serde_json
    }
    skipWhitespace();
    const c = text.charCodeAt(pos++);
    if (c === 0x2c) {
      skipWhitespace();
      continue;
    }
    if (c === 0x7d) return object;
    return invalid();
  }
}

// Recently seen object keys, indexed by a hash of their characters. Control payloads repeat the
// same few keys, and handing V8 the same string again makes the property store much cheaper
// than storing a freshly sliced copy.
const KEY_CACHE_SIZE = 256;
const keyCache: string[] = new Array<string>(KEY_CACHE_SIZE).fill('');

/** Reads an object key (opening quote consumed), reusing a cached string when it matches. */
function parseKey(): string {
  const start = pos;
  let hash = 0;
  while (pos < end) {
    const c = text.charCodeAt(pos);
    if (c === 0x22) {
      const length = pos - start;
      const slot = (hash + length) & (KEY_CACHE_SIZE - 1);
      const cached = keyCache[slot] as string;
      pos++;
      if (cached.length === length && text.startsWith(cached, start)) return cached;
      const key = text.slice(start, pos - 1);
      if (length <= 32) keyCache[slot] = key;
      return key;
    }
    if (c === 0x5c) return parseEscapedString(start);
    if (c < 0x20) invalid();
    hash = (hash * 31 + c) | 0;
    pos++;
  }
  return invalid();
}

/** Reads a string whose opening quote was consumed. Fast path: no escapes. */
function parseString(): string {
  const start = pos;
  while (pos < end) {
    const c = text.charCodeAt(pos);
    if (c === 0x22) return text.slice(start, pos++);
    if (c === 0x5c) return parseEscapedString(start);
    if (c < 0x20) invalid();
    pos++;
  }
  return invalid();
}

function parseEscapedString(start: number): string {
  let out = '';
  let chunkStart = start;
  while (pos < end) {
    const c = text.charCodeAt(pos);
    if (c === 0x22) {
      out += text.slice(chunkStart, pos++);
      return out;
    }
    if (c < 0x20) invalid();
    if (c !== 0x5c) {
      pos++;
      continue;
    }
    out += text.slice(chunkStart, pos);
    pos++;
    if (pos >= end) invalid();
    switch (text.charCodeAt(pos++)) {
      case 0x22: out += '"'; break;
      case 0x5c: out += '\\'; break;
      case 0x2f: out += '/'; break;
      case 0x62: out += '\b'; break;
      case 0x66: out += '\f'; break;
      case 0x6e: out += '\n'; break;
      case 0x72: out += '\r'; break;
      case 0x74: out += '\t'; break;
      case 0x75: out += parseUnicodeEscape(); break;
      default: invalid();
    }
    chunkStart = pos;
  }
  return invalid();
}

/** After `\u`: one BMP code unit, or a high+low surrogate pair; lone surrogates are refused. */
function parseUnicodeEscape(): string {
  const unit = readHex4();
  if (unit >= 0xdc00 && unit <= 0xdfff) invalid();
  if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
  if (text.charCodeAt(pos) !== 0x5c || text.charCodeAt(pos + 1) !== 0x75) invalid();
  pos += 2;
  const low = readHex4();
  if (low < 0xdc00 || low > 0xdfff) invalid();
  return String.fromCharCode(unit, low);
}

function readHex4(): number {
  if (pos + 4 > end) invalid();
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const c = text.charCodeAt(pos++);
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) digit = c - 0x37;
    else return invalid();
    value = value * 16 + digit;
  }
  return value;
}

const MAX_EXACT_DIGITS = 15; // every 15-digit integer is below 2^53
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function parseNumber(): number | bigint {
  const start = pos;
  let c = text.charCodeAt(pos);
  const negative = c === 0x2d;
  if (negative) c = text.charCodeAt(++pos);
  const digitsStart = pos;
  let value = 0;
  if (c === 0x30) {
    c = text.charCodeAt(++pos);
    if (isDigit(c)) invalid(); // leading zero
  } else if (isDigit(c)) {
    do {
      value = value * 10 + (c - 0x30);
      c = text.charCodeAt(++pos);
    } while (isDigit(c));
  } else {
    invalid();
  }
  const digitCount = pos - digitsStart;
  let isFloat = false;
  if (c === 0x2e) {
    isFloat = true;
    c = text.charCodeAt(++pos);
    if (!isDigit(c)) invalid();
    do c = text.charCodeAt(++pos);
    while (isDigit(c));
  }
  if (c === 0x65 || c === 0x45) {
    isFloat = true;
    c = text.charCodeAt(++pos);
    if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++pos);
    if (!isDigit(c)) invalid();
    do c = text.charCodeAt(++pos);
    while (isDigit(c));
  }
  if (isFloat) {
    const float = Number(text.slice(start, pos));
    if (!Number.isFinite(float)) invalid(); // serde_json: "number out of range"
    return float;
  }
  if (digitCount <= MAX_EXACT_DIGITS) return negative ? -value : value;
  const literal = text.slice(start, pos);
  const big = BigInt(literal);
  if (big >= MIN_SAFE && big <= MAX_SAFE) return Number(big);
  // serde_json reads integers outside u64/i64 as f64 and refuses those that overflow it.
  if (digitCount > 308 && !Number.isFinite(Number(literal))) invalid();
  return big;
}
