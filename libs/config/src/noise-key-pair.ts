import { createPrivateKey, createPublicKey } from 'node:crypto';

// DER prefixes that wrap a raw 32-byte X25519 key as PKCS#8 / SPKI, so node:crypto can use it
// without another dependency.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX_LENGTH = 12;

/** X25519 public key (hex) of a raw private key (hex, 32 bytes). */
export function x25519PublicFromPrivate(privateHex: string): string {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, Buffer.from(privateHex, 'hex')]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_X25519_PREFIX_LENGTH).toString('hex');
}
