export { GENESIS_HASH, chainHash, type ChainedBody, type ChainedLine } from './chain';
export { createLedger, type LedgerSettings } from './create-ledger';
export { DebugLedger } from './debug-ledger';
export { LedgerError, type LedgerErrorCode } from './errors';
export { FileLedger } from './file-ledger';
export type { Ledger } from './ledger';
export { NullLedger } from './null-ledger';
export { canonicalJson, rfc3339, type JsonValue, type LedgerRecord } from './record';
export { verifyLedgerFile, verifyLedgerText, type LedgerVerdict } from './verify';
