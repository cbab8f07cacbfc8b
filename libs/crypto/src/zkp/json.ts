import { CryptoError } from '../errors';
import { bytesToHex, hexToBytes } from '../hex';
import type { ZkpProof } from './proof';

const HEX_32 = /^[0-9a-fA-F]{64}$/;

/** `{"commitment":"<64 hex>","response":"<64 hex>"}`, lowercase (§5.6). */
export function zkpToJson(proof: ZkpProof): { commitment: string; response: string } {
  return { commitment: bytesToHex(proof.commitment), response: bytesToHex(proof.response) };
}

/** Both fields must be strings of exactly 64 hex digits, either case; other keys are ignored. */
export function zkpFromJson(value: unknown): ZkpProof {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CryptoError('InvalidProof', 'proof must be a JSON object');
  }
  const { commitment, response } = value as Record<string, unknown>;
  if (typeof commitment !== 'string' || !HEX_32.test(commitment)) {
    throw new CryptoError('InvalidProof', 'commitment must be 64 hex digits');
  }
  if (typeof response !== 'string' || !HEX_32.test(response)) {
    throw new CryptoError('InvalidProof', 'response must be 64 hex digits');
  }
  return { commitment: hexToBytes(commitment, 32), response: hexToBytes(response, 32) };
}
