import { createCipheriv, createDecipheriv } from 'node:crypto';
import { NoiseError } from '../errors';

export const TAG_LEN = 16;
const AEAD = 'chacha20-poly1305';

/**
 * Noise CipherState for ChaChaPoly: key k and counter n; nonce = 4 zero bytes ‖ u64le(n).
 * Without a key, encryption and decryption pass the bytes through (handshake messages sent
 * before the first MixKey).
 */
export class CipherState {
  private key: Buffer | undefined;
  private counter = 0;
  // OpenSSL copies the IV at init, so one buffer can be rewritten for every message.
  private readonly nonce = Buffer.alloc(12);

  constructor(key?: Buffer) {
    this.key = key;
  }

  get hasKey(): boolean {
    return this.key !== undefined;
  }

  /** Messages processed so far in this direction (the next nonce). */
  get nonceCounter(): number {
    return this.counter;
  }

  initializeKey(key: Buffer): void {
    this.key = key;
    this.counter = 0;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    const key = this.key;
    if (key === undefined) return Buffer.from(plaintext);
    const cipher = createCipheriv(AEAD, key, this.nextNonce(), { authTagLength: TAG_LEN });
    if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    const body = cipher.update(plaintext);
    cipher.final();
    const out = Buffer.concat([body, cipher.getAuthTag()], body.length + TAG_LEN);
    this.counter++;
    return out;
  }

  /** On failure the counter is left unchanged (as in snow), so a later genuine message still decrypts. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Buffer {
    const key = this.key;
    if (key === undefined) return Buffer.from(ciphertext);
    if (ciphertext.length < TAG_LEN) throw new NoiseError('DecryptFailed', 'ciphertext shorter than the tag');
    const bodyLen = ciphertext.length - TAG_LEN;
    const decipher = createDecipheriv(AEAD, key, this.nextNonce(), { authTagLength: TAG_LEN });
    if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: bodyLen });
    decipher.setAuthTag(ciphertext.subarray(bodyLen));
    const plaintext = decipher.update(ciphertext.subarray(0, bodyLen));
    try {
      decipher.final();
    } catch {
      throw new NoiseError('DecryptFailed', 'authentication tag mismatch');
    }
    this.counter++;
    return plaintext;
  }

  private nextNonce(): Buffer {
    // 2^64−1 is reserved by Noise; a JS number stays exact only to 2^53−1, which no connection reaches.
    if (this.counter >= Number.MAX_SAFE_INTEGER) throw new NoiseError('InvalidState', 'nonce exhausted');
    this.nonce.writeUInt32LE(this.counter >>> 0, 4);
    this.nonce.writeUInt32LE(Math.floor(this.counter / 0x1_0000_0000), 8);
    return this.nonce;
  }
}
