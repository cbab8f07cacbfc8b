import { ed25519 } from '@noble/curves/ed25519.js';

type EdwardsPoint = InstanceType<typeof ed25519.Point>;
const Point = ed25519.Point;

// Window widths: the base table is built once, so it can be wide (64 odd multiples); the
// per-call table for A is rebuilt every time, where width 5 (8 points) costs least overall.
const BASE_WINDOW = 8;
const POINT_WINDOW = 5;

let baseOddMultiples: { positive: EdwardsPoint[]; negative: EdwardsPoint[] } | undefined;

function oddMultiples(point: EdwardsPoint, window: number): EdwardsPoint[] {
  const count = 1 << (window - 2);
  const twice = point.double();
  const table = [point];
  for (let i = 1; i < count; i++) table.push(table[i - 1]!.add(twice));
  return table;
}

function baseTable(): { positive: EdwardsPoint[]; negative: EdwardsPoint[] } {
  if (baseOddMultiples === undefined) {
    const positive = oddMultiples(Point.BASE, BASE_WINDOW);
    baseOddMultiples = { positive, negative: positive.map((p) => p.negate()) };
  }
  return baseOddMultiples;
}

/**
 * Signed sliding-window digits of a scalar below 2^253 (ref10 `slide`, generalised): every
 * non-zero digit is odd with |d| < 2^(window−1), and Σ d_i·2^i equals the scalar.
 */
function slidingWindowDigits(scalar: bigint, window: number): Int16Array {
  const bound = (1 << (window - 1)) - 1;
  const digits = new Int16Array(256);
  let rest = scalar;
  for (let i = 0; i < 256 && rest !== 0n; i += 32) {
    let word = Number(rest & 0xffff_ffffn);
    rest >>= 32n;
    for (let bit = 0; bit < 32; bit++, word >>>= 1) digits[i + bit] = word & 1;
  }
  for (let i = 0; i < 256; i++) {
    if (digits[i] === 0) continue;
    for (let b = 1; b <= window + 1 && i + b < 256; b++) {
      const next = digits[i + b];
      if (next === 0) continue;
      const shifted = next << b;
      if (digits[i] + shifted <= bound) {
        digits[i] += shifted;
        digits[i + b] = 0;
      } else if (digits[i] - shifted >= -bound) {
        digits[i] -= shifted;
        // Propagate the carry upward.
        for (let k = i + b; k < 256; k++) {
          if (digits[k] === 0) {
            digits[k] = 1;
            break;
          }
          digits[k] = 0;
        }
      } else {
        break;
      }
    }
  }
  return digits;
}

/**
 * s·B − c·A in variable time (inputs are public): one shared doubling chain (Strauss–Shamir)
 * with a cached wide table for B and a small per-call table for A.
 */
export function baseTimesMinusPointTimes(s: bigint, point: EdwardsPoint, c: bigint): EdwardsPoint {
  const base = baseTable();
  const pointPositive = oddMultiples(point, POINT_WINDOW);
  const pointNegative = pointPositive.map((p) => p.negate());
  const sDigits = slidingWindowDigits(s, BASE_WINDOW);
  const cDigits = slidingWindowDigits(c, POINT_WINDOW);
  let top = 255;
  while (top >= 0 && sDigits[top] === 0 && cDigits[top] === 0) top--;
  let acc = Point.ZERO;
  for (let i = top; i >= 0; i--) {
    if (i !== top) acc = acc.double();
    const sd = sDigits[i];
    if (sd > 0) acc = acc.add(base.positive[sd >> 1]!);
    else if (sd < 0) acc = acc.add(base.negative[-sd >> 1]!);
    // Subtracting c·A: a positive digit adds −A multiples.
    const cd = cDigits[i];
    if (cd > 0) acc = acc.add(pointNegative[cd >> 1]!);
    else if (cd < 0) acc = acc.add(pointPositive[-cd >> 1]!);
  }
  return acc;
}
