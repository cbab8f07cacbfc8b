import { stringifyJson, type JsonValue } from '@commucat/ccp1';
import { blake3 } from '@commucat/crypto';

/** The signed part of a federation event (spec rest-storage-ops §5.3). */
export interface FederationEvent {
  readonly event_id: string;
  readonly origin: string;
  readonly created_at: string;
  readonly payload: JsonValue;
  readonly scope: string;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * `created_at` as i64 nanoseconds since the epoch, exact (a JS Date keeps only milliseconds).
 * Undefined when the text is not RFC 3339.
 */
export function createdAtNanos(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const millis = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Date.UTC rolls over out-of-range fields (Feb 30 → Mar 2); a real timestamp must round-trip.
  const check = new Date(millis);
  if (Number.isNaN(millis) || check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h) || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  let nanos = BigInt(millis) * 1_000_000n + BigInt((frac ?? '').padEnd(9, '0') || '0');
  if (sign) nanos -= (sign === '-' ? -1n : 1n) * BigInt(Number(oh) * 3600 + Number(om) * 60) * 1_000_000_000n;
  return nanos;
}

/** RFC 3339 with Z and nanoseconds, the form the reference writes. */
export function formatCreatedAt(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * BLAKE3 over event_id ‖ origin ‖ scope ‖ created_at as i64 LE nanoseconds (0 when outside i64)
 * ‖ the payload as serde_json writes a Value (compact, keys sorted, exact integers).
 */
export function eventDigest(event: FederationEvent): Buffer {
  const nanos = createdAtNanos(event.created_at);
  const time = Buffer.alloc(8);
  time.writeBigInt64LE(nanos !== undefined && nanos >= I64_MIN && nanos <= I64_MAX ? nanos : 0n);
  return blake3(
    Buffer.concat([
      Buffer.from(event.event_id, 'utf8'),
      Buffer.from(event.origin, 'utf8'),
      Buffer.from(event.scope, 'utf8'),
      time,
      Buffer.from(stringifyJson(event.payload), 'utf8'),
    ]),
  );
}
