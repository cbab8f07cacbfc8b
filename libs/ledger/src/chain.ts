import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from './record';

/** The `prev` of the first record of a file. */
export const GENESIS_HASH = '0'.repeat(64);

/** One line of a file ledger, before its own `hash` is added. */
export interface ChainedBody {
  digest: string;
  metadata: { [key: string]: JsonValue };
  prev: string;
  recorded_at: string;
  seq: number;
}

export interface ChainedLine extends ChainedBody {
  hash: string;
}

/** SHA-256 over the canonical JSON of every field except `hash` itself. */
export function chainHash(body: ChainedBody): string {
  return createHash('sha256').update(canonicalJson(body as unknown as JsonValue), 'utf8').digest('hex');
}
