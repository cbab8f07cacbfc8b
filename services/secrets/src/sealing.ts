import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Private key material is sealed with the configured key-encryption key before it reaches
// Postgres, so a database dump alone reveals no key. The AAD binds a sealed blob to its row.
const NONCE_LEN = 12;
const TAG_LEN = 16;

export const SEALING = 'aes-256-gcm';

export function sealSecret(kek: Buffer, aad: string, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_LEN);
  const cipher = createCipheriv(SEALING, kek, nonce, { authTagLength: TAG_LEN });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function openSecret(kek: Buffer, aad: string, sealed: Uint8Array): Buffer {
  const blob = Buffer.from(sealed);
  if (blob.length < NONCE_LEN + TAG_LEN) throw new Error(`sealed secret ${aad} is truncated`);
  const decipher = createDecipheriv(SEALING, kek, blob.subarray(0, NONCE_LEN), { authTagLength: TAG_LEN });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(blob.subarray(blob.length - TAG_LEN));
  try {
    return Buffer.concat([decipher.update(blob.subarray(NONCE_LEN, blob.length - TAG_LEN)), decipher.final()]);
  } catch {
    // Wrong KEK or a tampered row: name the row, never the bytes.
    throw new Error(`cannot open sealed secret ${aad}: wrong key-encryption key or corrupted row`);
  }
}
