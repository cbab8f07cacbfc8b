import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors';

const KEY_LEN = 32;
const SIGNATURE_LEN = 64;
// PKCS#8 header for a raw Ed25519 seed (RFC 8410). Only a fallback: DER import is ~15× slower than JWK.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Imports a 32-byte RFC 8032 secret key ("seed") into OpenSSL. Node derives the public half from
 * `d` (it only requires `x` to be a string).
 */
export function importEd25519Private(privateKey: Uint8Array): KeyObject {
  if (privateKey.length !== KEY_LEN) throw new CryptoError('InvalidKey', 'Ed25519 private key must be 32 bytes');
  try {
    return createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(privateKey).toString('base64url'), x: '' },
      format: 'jwk',
    });
  } catch {
    return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
  }
}

/** The raw 32-byte public key of an imported Ed25519 key. */
export function exportEd25519Public(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new CryptoError('InvalidKey', 'Ed25519 key has no public part');
  return Buffer.from(jwk.x, 'base64url');
}

/** RFC 8032 public key of a 32-byte secret key. */
export function ed25519PublicKey(privateKey: Uint8Array): Buffer {
  return exportEd25519Public(importEd25519Private(privateKey));
}

// Callers sign repeatedly with the same buffer (the CA key); remember its import per buffer
// object and re-import only if its bytes changed.
const importedSigningKeys = new WeakMap<Uint8Array, { bytes: Buffer; key: KeyObject }>();

function signingKeyFor(privateKey: Uint8Array): KeyObject {
  const cached = importedSigningKeys.get(privateKey);
  if (cached !== undefined && cached.bytes.equals(privateKey)) return cached.key;
  const key = importEd25519Private(privateKey);
  importedSigningKeys.set(privateKey, { bytes: Buffer.from(privateKey), key });
  return key;
}

/** PureEdDSA signature (RFC 8032), as ed25519-dalek `SigningKey::sign`. */
export function ed25519Sign(privateKey: Uint8Array, message: Uint8Array): Buffer {
  return sign(null, message, signingKeyFor(privateKey));
}

/** Signs with an already imported key. */
export function ed25519SignWithKey(key: KeyObject, message: Uint8Array): Buffer {
  return sign(null, message, key);
}

/** RFC 8032 verification (OpenSSL: s < L required, R compared as bytes). Malformed input → false. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== KEY_LEN || signature.length !== SIGNATURE_LEN) return false;
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
      format: 'jwk',
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * The clamped secret scalar of RFC 8032 key expansion, reduced mod L (ed25519-dalek
 * `SigningKey::to_scalar`, §5.2), as 32 little-endian bytes.
 */
export function ed25519SecretScalar(privateKey: Uint8Array): Buffer {
  if (privateKey.length !== KEY_LEN) throw new CryptoError('InvalidKey', 'Ed25519 private key must be 32 bytes');
  const expanded = createHash('sha512').update(privateKey).digest();
  const clamped = expanded.subarray(0, 32);
  clamped[0] &= 0xf8;
  clamped[31] &= 0x7f;
  clamped[31] |= 0x40;
  return scalarToBytes(bytesToScalar(clamped) % ED25519_ORDER);
}

/** L, the prime order of the Ed25519 base point. */
export const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

export function bytesToScalar(littleEndian: Uint8Array): bigint {
  if (littleEndian.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(littleEndian).reverse().toString('hex'));
}

/** 32 little-endian bytes of a value below 2^256. */
export function scalarToBytes(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex').reverse();
}
