import { LedgerError } from './errors';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One ledger entry (spec rest-storage-ops §6): a 32-byte digest, when, and what it was about. */
export interface LedgerRecord {
  digest: Uint8Array;
  recordedAt: Date;
  /** Never a token or a private key: the digest stands in for secrets. */
  metadata: { [key: string]: JsonValue };
}

export function checkRecord(record: LedgerRecord): void {
  if (record.digest.length !== 32) throw new LedgerError('LEDGER_BAD_RECORD', `ledger digest must be 32 bytes, got ${record.digest.length}`);
  if (Number.isNaN(record.recordedAt.getTime())) throw new LedgerError('LEDGER_BAD_RECORD', 'ledger recordedAt is not a valid date');
}

/** RFC 3339 in UTC with an explicit +00:00, as the reference wrote it. */
export const rfc3339 = (at: Date): string => at.toISOString().replace(/Z$/, '+00:00');

/** JSON with object keys sorted at every depth, so a record always hashes the same way. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
