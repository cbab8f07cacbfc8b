import type { Ledger } from './ledger';
import { checkRecord, type LedgerRecord } from './record';

/** `ledger.mode = null`: validates and drops every record. */
export class NullLedger implements Ledger {
  readonly mode = 'null' as const;

  async submit(record: LedgerRecord): Promise<void> {
    checkRecord(record);
  }

  async close(): Promise<void> {}
}
