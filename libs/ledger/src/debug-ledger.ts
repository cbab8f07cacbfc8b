import type { Logger } from 'pino';
import type { Ledger } from './ledger';
import { checkRecord, type LedgerRecord } from './record';

/** `ledger.mode = debug`: one info log line per record with the hex digest and the metadata. */
export class DebugLedger implements Ledger {
  readonly mode = 'debug' as const;

  constructor(private readonly logger: Logger) {}

  async submit(record: LedgerRecord): Promise<void> {
    checkRecord(record);
    this.logger.info({ ledger: true, digest: Buffer.from(record.digest).toString('hex'), metadata: record.metadata }, 'ledger record');
  }

  async close(): Promise<void> {}
}
