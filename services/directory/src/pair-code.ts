import { randomInt } from 'node:crypto';

/** The reference's alphabet: no I, L, O, 0 or 1, which people misread. */
export const PAIR_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const GROUP = 4;
const PAIR_CODE_SHAPE = new RegExp(`^[${PAIR_CODE_ALPHABET}]{${GROUP * 2}}$`);

/** A fresh `XXXX-XXXX` code; randomInt draws each symbol uniformly from a CSPRNG (no modulo bias). */
export function generatePairCode(): string {
  let symbols = '';
  for (let i = 0; i < GROUP * 2; i++) symbols += PAIR_CODE_ALPHABET[randomInt(PAIR_CODE_ALPHABET.length)];
  return `${symbols.slice(0, GROUP)}-${symbols.slice(GROUP)}`;
}

/**
 * The canonical `XXXX-XXXX` form of what a person typed: case, spaces and dashes do not matter.
 * Undefined when it cannot be a code.
 */
export function normalisePairCode(typed: string): string | undefined {
  const symbols = typed.replace(/[\s-]/g, '').toUpperCase();
  if (!PAIR_CODE_SHAPE.test(symbols)) return undefined;
  return `${symbols.slice(0, GROUP)}-${symbols.slice(GROUP)}`;
}

/** What a client-generated key signs to claim a code: proof it holds the private key. */
export function pairClaimMessage(pairCode: string, devicePublic: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`commucat-pair-claim:${pairCode}`, 'utf8'), devicePublic]);
}
