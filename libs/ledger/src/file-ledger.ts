import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import * as path from 'node:path';
import { chainHash, GENESIS_HASH, type ChainedBody, type ChainedLine } from './chain';
import { LedgerError } from './errors';
import type { Ledger } from './ledger';
import { canonicalJson, checkRecord, rfc3339, type JsonValue, type LedgerRecord } from './record';
import { verifyLedgerText } from './verify';

/**
 * `ledger.mode = file`: one JSON line per record, each carrying the hash of the previous line, so
 * editing, dropping or reordering a line breaks the chain (weakness §11.18). A single writer per
 * file: appends are queued in order, and a restart resumes the chain from the last line. Two
 * processes must not share one file (give each replica its own target).
 */
export class FileLedger implements Ledger {
  readonly mode = 'file' as const;
  private lastHash: string;
  private seq: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly target: string) {
    mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
    const tail = existsSync(target) ? verifyLedgerText(readFileSync(target, 'utf8')) : { ok: true as const, records: 0, lastHash: GENESIS_HASH };
    if (!tail.ok) throw new LedgerError('LEDGER_CORRUPT', `ledger ${target} fails verification at line ${tail.line}: ${tail.reason}`);
    this.lastHash = tail.lastHash;
    this.seq = tail.records;
  }

  submit(record: LedgerRecord): Promise<void> {
    checkRecord(record);
    const body: ChainedBody = {
      digest: Buffer.from(record.digest).toString('hex'),
      metadata: record.metadata,
      prev: this.lastHash,
      recorded_at: rfc3339(record.recordedAt),
      seq: this.seq + 1,
    };
    const line: ChainedLine = { ...body, hash: chainHash(body) };
    // Advance the chain synchronously so records submitted together keep their order.
    this.lastHash = line.hash;
    this.seq = body.seq;
    const text = `${canonicalJson(line as unknown as JsonValue)}\n`;
    const write = this.queue.then(() => appendFile(this.target, text, { mode: 0o600 })).catch((err: unknown) => {
      throw new LedgerError('LEDGER_WRITE_FAILED', `cannot append to ledger ${this.target}: ${(err as Error).message}`);
    });
    // A failed write must not wedge later ones; the caller still sees its own failure.
    this.queue = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.queue;
  }
}
