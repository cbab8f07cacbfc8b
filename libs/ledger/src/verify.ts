import { readFileSync } from 'node:fs';
import { chainHash, GENESIS_HASH, type ChainedLine } from './chain';

export type LedgerVerdict =
  | { ok: true; records: number; lastHash: string }
  | { ok: false; line: number; reason: string };

/** Re-derives every hash and link of a file ledger's text; reports the first broken line (1-based). */
export function verifyLedgerText(text: string): LedgerVerdict {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS_HASH;
  for (let i = 0; i < lines.length; i++) {
    const fail = (reason: string): LedgerVerdict => ({ ok: false, line: i + 1, reason });
    let parsed: ChainedLine;
    try {
      parsed = JSON.parse(lines[i]!) as ChainedLine;
    } catch {
      return fail('not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null) return fail('not an object');
    const { hash, ...body } = parsed;
    if (body.seq !== i + 1) return fail(`sequence ${String(body.seq)} where ${i + 1} was expected`);
    if (body.prev !== prev) return fail('prev does not match the hash of the previous record');
    if (typeof hash !== 'string' || chainHash(body) !== hash) return fail('hash does not match the record');
    prev = hash;
  }
  return { ok: true, records: lines.length, lastHash: prev };
}

export function verifyLedgerFile(target: string): LedgerVerdict {
  return verifyLedgerText(readFileSync(target, 'utf8'));
}
