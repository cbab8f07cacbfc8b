import { NoiseError } from '../errors';
import { type CipherState, TAG_LEN } from './cipher-state';
import { MAX_NOISE_MESSAGE } from './limits';

const NO_AD = Buffer.alloc(0);

/** Post-handshake transport: one cipher per direction, each with its own counter from 0. */
export class NoiseTransport {
  /** @param sender cipher for what this side writes; @param receiver cipher for what it reads. */
  constructor(
    private readonly sender: CipherState,
    private readonly receiver: CipherState,
  ) {}

  /** Messages encrypted so far (the next sending nonce). */
  get sendingNonce(): number {
    return this.sender.nonceCounter;
  }

  /** Messages decrypted so far (the next receiving nonce). */
  get receivingNonce(): number {
    return this.receiver.nonceCounter;
  }

  encrypt(plaintext: Uint8Array): Buffer {
    if (plaintext.length > MAX_NOISE_MESSAGE - TAG_LEN) {
      throw new NoiseError('MessageTooLarge', `transport plaintext of ${plaintext.length} bytes exceeds ${MAX_NOISE_MESSAGE - TAG_LEN}`);
    }
    return this.sender.encryptWithAd(NO_AD, plaintext);
  }

  /** A failed decryption leaves the receiving counter where it was (snow does the same). */
  decrypt(ciphertext: Uint8Array): Buffer {
    if (ciphertext.length > MAX_NOISE_MESSAGE) {
      throw new NoiseError('MessageTooLarge', `transport message of ${ciphertext.length} bytes exceeds ${MAX_NOISE_MESSAGE}`);
    }
    return this.receiver.decryptWithAd(NO_AD, ciphertext);
  }
}
