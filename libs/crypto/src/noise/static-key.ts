import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { DH_LEN, importX25519Private } from './x25519';

/**
 * A long-lived X25519 key imported into OpenSSL once, so handshakes that reuse it (the gateway's
 * server key) never pay for the import again.
 */
export class NoiseStaticKey {
  private constructor(
    readonly privateKey: Buffer,
    readonly publicKey: Buffer,
    /** The imported key, handed straight to `crypto.diffieHellman`. */
    readonly keyObject: KeyObject,
  ) {}

  /** Any 32 bytes (clamped by X25519); the real client passes its Ed25519 seed here (§3.2). */
  static fromPrivate(privateKey: Uint8Array): NoiseStaticKey {
    const imported = importX25519Private(privateKey);
    return new NoiseStaticKey(Buffer.from(privateKey), imported.publicKey, imported.keyObject);
  }

  static generate(): NoiseStaticKey {
    return NoiseStaticKey.fromPrivate(randomBytes(DH_LEN));
  }
}
