import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';

/** BLAKE3 (unkeyed); outLen > 32 reads further into the XOF stream. */
export function blake3(data: Uint8Array, outLen = 32): Buffer {
  const digest = nobleBlake3(data, { dkLen: outLen });
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength);
}
