import { blake3 } from '@noble/hashes/blake3.js';
import { bytesToScalar, ED25519_ORDER } from '../ed25519';
import { ZKP_DOMAIN_SEPARATOR } from './context';

/**
 * c = LE512(BLAKE3-XOF(D ‖ u64le(len ctx) ‖ ctx ‖ A ‖ R)[0..64]) mod L (§5.4). D appears again
 * inside ctx; that is what the crate hashes.
 */
export function zkpChallenge(context: Uint8Array, devicePublic: Uint8Array, commitment: Uint8Array): bigint {
  const contextLength = Buffer.alloc(8);
  contextLength.writeBigUInt64LE(BigInt(context.length));
  const digest = blake3
    .create({ dkLen: 64 })
    .update(ZKP_DOMAIN_SEPARATOR)
    .update(contextLength)
    .update(context)
    .update(devicePublic)
    .update(commitment)
    .digest();
  return bytesToScalar(digest) % ED25519_ORDER;
}
