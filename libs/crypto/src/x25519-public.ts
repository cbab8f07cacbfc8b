import { CryptoError, NoiseError } from './errors';
import { importX25519Private } from './noise/x25519';

/**
 * X25519(clamp(private), 9). The real client feeds its Ed25519 seed in here to get the Noise
 * static key it announces as `client_static` (§3.2) — not the Ed25519→Montgomery conversion.
 */
export function x25519PublicKey(privateKey: Uint8Array): Buffer {
  try {
    return importX25519Private(privateKey).publicKey;
  } catch (error) {
    if (error instanceof NoiseError) throw new CryptoError('InvalidKey', error.message);
    throw error;
  }
}
