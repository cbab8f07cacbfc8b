import type { Logger } from 'pino';
import { DebugLedger } from './debug-ledger';
import { LedgerError } from './errors';
import { FileLedger } from './file-ledger';
import type { Ledger } from './ledger';
import { NullLedger } from './null-ledger';

export interface LedgerSettings {
  mode: 'null' | 'debug' | 'file';
  target?: string;
}

/** The adapter `ledger.mode` names; `file` without `ledger.target` fails at boot, as in the reference. */
export function createLedger(settings: LedgerSettings, logger: Logger): Ledger {
  switch (settings.mode) {
    case 'null':
      return new NullLedger();
    case 'debug':
      return new DebugLedger(logger.child({ component: 'ledger' }));
    case 'file':
      if (!settings.target) throw new LedgerError('LEDGER_TARGET_REQUIRED', 'ledger.mode = file needs ledger.target');
      return new FileLedger(settings.target);
  }
}
