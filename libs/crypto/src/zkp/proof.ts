import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { DeviceKeyPair } from '../device-keys';
import { bytesToScalar, ED25519_ORDER, ed25519PublicKey, ed25519SecretScalar, scalarToBytes } from '../ed25519';
import { CryptoError } from '../errors';
import { zkpChallenge } from './challenge';
import { baseTimesMinusPointTimes } from './double-scalar';

const Point = ed25519.Point;
const FIELD_PRIME = 2n ** 255n - 19n;
const Y_MASK = 2n ** 255n - 1n;
const NONCE_INPUT_LEN = 64;

/** Schnorr proof of knowledge of the device secret scalar, bound to a handshake context (§5). */
export interface ZkpProof {
  /** R = k·B, compressed (32 bytes). */
  commitment: Buffer;
  /** s = k + c·x mod L, 32 bytes little-endian. */
  response: Buffer;
}

/** `random64(n)` must return n fresh random bytes; only tests pass their own. */
export function proveZkp(
  keys: DeviceKeyPair,
  context: Uint8Array,
  random64: (n: number) => Uint8Array = randomBytes,
): ZkpProof {
  if (!ed25519PublicKey(keys.privateKey).equals(keys.publicKey)) {
    throw new CryptoError('InvalidKey', 'device public key does not match its private key');
  }
  const secret = bytesToScalar(ed25519SecretScalar(keys.privateKey));
  const nonceInput = random64(NONCE_INPUT_LEN);
  if (nonceInput.length !== NONCE_INPUT_LEN) {
    throw new CryptoError('InvalidProof', `random source returned ${nonceInput.length} bytes, expected ${NONCE_INPUT_LEN}`);
  }
  const nonce = bytesToScalar(nonceInput) % ED25519_ORDER;
  // Constant-time multiplication: the nonce is secret. (noble refuses 0, whose commitment is the identity.)
  const commitmentPoint = nonce === 0n ? Point.ZERO : Point.BASE.multiply(nonce);
  const commitment = Buffer.from(commitmentPoint.toBytes());
  const challenge = zkpChallenge(context, keys.publicKey, commitment);
  const response = scalarToBytes((nonce + challenge * secret) % ED25519_ORDER);
  return { commitment, response };
}

/**
 * Accepts iff s < L and s·B == R + c·A exactly (no cofactor), decoding A and R as leniently as
 * curve25519-dalek (§5.7). Never throws: malformed input gives false.
 */
export function verifyZkp(devicePublic: Uint8Array, context: Uint8Array, proof: ZkpProof): boolean {
  const commitment = proof?.commitment;
  const response = proof?.response;
  if (devicePublic?.length !== 32 || commitment?.length !== 32 || response?.length !== 32) return false;
  const s = bytesToScalar(response);
  if (s >= ED25519_ORDER) return false;
  let devicePoint;
  try {
    devicePoint = Point.fromBytes(devicePublic, true);
  } catch {
    return false;
  }
  const c = zkpChallenge(context, devicePublic, commitment);
  const expectedCommitment = baseTimesMinusPointTimes(s, devicePoint, c);
  if (isCanonicalEncoding(commitment)) {
    // Canonical encodings are unique, so comparing bytes is group equality and saves decoding R.
    return Buffer.from(expectedCommitment.toBytes()).equals(commitment);
  }
  try {
    return expectedCommitment.equals(Point.fromBytes(commitment, true));
  } catch {
    return false;
  }
}

/** y < p, and no sign bit on the two points with x = 0 (y = 1 and y = p − 1). */
function isCanonicalEncoding(encoded: Uint8Array): boolean {
  const y = bytesToScalar(encoded) & Y_MASK;
  if (y >= FIELD_PRIME) return false;
  const signBit = (encoded[31]! & 0x80) !== 0;
  return !(signBit && (y === 1n || y === FIELD_PRIME - 1n));
}
