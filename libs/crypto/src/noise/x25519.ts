import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';
import { NoiseError } from '../errors';

export const DH_LEN = 32;

// PKCS#8 header for a raw X25519 private key (RFC 8410). Only a fallback: DER import is ~15× slower.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface X25519PrivateKey {
  readonly keyObject: KeyObject;
  readonly publicKey: Buffer;
}

/**
 * Imports a raw 32-byte X25519 scalar. Node derives the public half from `d` itself (it only
 * requires `x` to be a string), so the JWK route gives us the public key without a second
 * scalar multiplication in JS. Any 32 bytes are accepted; clamping happens inside X25519.
 */
export function importX25519Private(privateKey: Uint8Array): X25519PrivateKey {
  if (privateKey.length !== DH_LEN) throw new NoiseError('InvalidKey', 'X25519 private key must be 32 bytes');
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(privateKey).toString('base64url'), x: '' },
      format: 'jwk',
    });
  } catch {
    // A Node version that insists on a matching `x`: fall back to PKCS#8.
    keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
  }
  return { keyObject, publicKey: exportRawPublic(keyObject) };
}

export function importX25519Public(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== DH_LEN) throw new NoiseError('InvalidKey', 'X25519 public key must be 32 bytes');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(publicKey.buffer, publicKey.byteOffset, DH_LEN).toString('base64url') },
    format: 'jwk',
  });
}

/**
 * A fresh random key pair. Deliberately not `generateKeyPairSync('x25519')`: on Node 20.20,
 * exporting a key made by it deadlocks when a GC runs during the export (the collected KeyGenJob
 * locks the key's mutex that the export holds); the bench hung within seconds. Importing 32
 * random bytes is no slower (≈50 µs vs ≈70 µs per key including the public-key export).
 */
export function generateX25519(): X25519PrivateKey {
  return importX25519Private(randomBytes(DH_LEN));
}

/**
 * X25519(private, public). OpenSSL refuses low-order public keys (all-zero shared secret); snow
 * would carry on with zeros. Honest peers never send those, so we fail the handshake instead.
 */
export function x25519SharedSecret(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  try {
    return diffieHellman({ privateKey, publicKey });
  } catch {
    throw new NoiseError('InvalidKey', 'X25519 with a low-order public key');
  }
}

function exportRawPublic(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new NoiseError('InvalidKey', 'X25519 key has no public part');
  return Buffer.from(jwk.x, 'base64url');
}
