/** Error catalogue of @commucat/crypto: every failure carries a stable string code. */

export type CryptoErrorCode = 'InvalidKey' | 'InvalidProof' | 'InvalidCertificate' | 'InvalidHex';

/** Key, ZKP, certificate and hex failures. */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string = code,
  ) {
    super(message);
  }
}

export type NoiseErrorCode = 'DecryptFailed' | 'MessageTooLarge' | 'InvalidState' | 'InvalidKey' | 'InvalidMessage';

/** Noise handshake and transport failures. */
export class NoiseError extends Error {
  override readonly name = 'NoiseError';
  constructor(
    readonly code: NoiseErrorCode,
    message: string = code,
  ) {
    super(message);
  }
}
