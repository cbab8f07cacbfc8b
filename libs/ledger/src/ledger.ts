import type { LedgerRecord } from './record';

/** Where ledger records go. `submit` resolves once the record is durable for that adapter. */
export interface Ledger {
  readonly mode: 'null' | 'debug' | 'file';
  submit(record: LedgerRecord): Promise<void>;
  /** Waits for queued records, then releases the adapter. */
  close(): Promise<void>;
}
