import { CryptoError } from './errors';

const HEX_DIGITS = /^[0-9a-fA-F]*$/;

/**
 * Decodes hex written in either case, like the crate's fixed-length decoders (§8-T12): no
 * whitespace trimming, no odd lengths, and an exact length when `expectedLen` (bytes) is given.
 */
export function hexToBytes(hex: string, expectedLen?: number): Buffer {
  if (typeof hex !== 'string') throw new CryptoError('InvalidHex', 'hex value must be a string');
  if (hex.length % 2 !== 0) throw new CryptoError('InvalidHex', 'hex string has an odd length');
  if (expectedLen !== undefined && hex.length !== expectedLen * 2) {
    throw new CryptoError('InvalidHex', `expected ${expectedLen * 2} hex digits, got ${hex.length}`);
  }
  // Buffer.from(…, 'hex') silently stops at the first bad digit, so validate first.
  if (!HEX_DIGITS.test(hex)) throw new CryptoError('InvalidHex', 'non-hex character');
  return Buffer.from(hex, 'hex');
}

/** Lowercase hex, the only form the reference and the client produce. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
