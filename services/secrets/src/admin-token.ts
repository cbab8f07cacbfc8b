import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// 256-bit random tokens need no slow KDF: a salted keyed hash is enough to make a database dump
// useless for logging in, and it keeps per-request verification cheap.
const SALT_LEN = 16;

export interface AdminTokenHash {
  salt: Buffer;
  hash: Buffer;
}

/** A fresh admin token: 32 random bytes as hex. */
export const generateAdminToken = (): string => randomBytes(32).toString('hex');

export function hashAdminToken(token: string, salt: Buffer = randomBytes(SALT_LEN)): AdminTokenHash {
  return { salt, hash: createHmac('sha256', salt).update(token, 'utf8').digest() };
}

/**
 * True when `candidate` matches any stored hash. Every record is compared, in constant time, so
 * the answer's timing says nothing about which (or whether a) record matched.
 */
export function matchesAnyAdminToken(candidate: string, stored: readonly AdminTokenHash[]): boolean {
  let ok = false;
  for (const record of stored) {
    const computed = hashAdminToken(candidate, record.salt).hash;
    if (computed.length === record.hash.length && timingSafeEqual(computed, record.hash)) ok = true;
  }
  return ok;
}
