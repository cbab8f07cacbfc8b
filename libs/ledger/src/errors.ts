/** Stable codes of every ledger failure. */
export type LedgerErrorCode = 'LEDGER_BAD_RECORD' | 'LEDGER_TARGET_REQUIRED' | 'LEDGER_WRITE_FAILED' | 'LEDGER_CORRUPT';

export class LedgerError extends Error {
  constructor(readonly code: LedgerErrorCode, message: string) {
    super(message);
    this.name = 'LedgerError';
  }
}
