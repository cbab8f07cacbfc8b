import { blake3 } from '@commucat/crypto';

const DOMAIN_TAG = Buffer.from('commucat:device-rotation:v1', 'utf8');

/**
 * The 32 bytes a device signs with its CURRENT key to move to `newPublicKey` (spec
 * rest-storage-ops §4.1 step 5): BLAKE3(tag ‖ device_id ‖ new key ‖ expires_at i64 BE ‖ nonce).
 */
export function rotationProofDigest(deviceId: string, newPublicKey: Uint8Array, expiresAt: number, nonce: Uint8Array = new Uint8Array(0)): Buffer {
  const expires = Buffer.alloc(8);
  expires.writeBigInt64BE(BigInt(expiresAt));
  return blake3(Buffer.concat([DOMAIN_TAG, Buffer.from(deviceId, 'utf8'), newPublicKey, expires, nonce]));
}
