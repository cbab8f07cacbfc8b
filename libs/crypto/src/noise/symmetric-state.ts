import { createHash, createHmac } from 'node:crypto';
import { CipherState } from './cipher-state';

export const HASH_LEN = 32;
const HASH = 'blake2s256';
const BYTE_1 = Buffer.from([1]);
const BYTE_2 = Buffer.from([2]);

// BLAKE2s(protocol name) is the same for every handshake of a pattern; compute it once.
const initialHashCache = new Map<string, Buffer>();

function initialHash(protocolName: string): Buffer {
  let h = initialHashCache.get(protocolName);
  if (h === undefined) {
    const name = Buffer.from(protocolName, 'ascii');
    h = name.length <= HASH_LEN ? Buffer.concat([name], HASH_LEN).fill(0, name.length) : createHash(HASH).update(name).digest();
    initialHashCache.set(protocolName, h);
  }
  return h;
}

/** Noise HKDF with two outputs; HMAC-BLAKE2s uses BLAKE2s' 64-byte block, as OpenSSL does. */
function hkdf2(chainingKey: Buffer, inputKeyMaterial: Uint8Array): [Buffer, Buffer] {
  const tempKey = createHmac(HASH, chainingKey).update(inputKeyMaterial).digest();
  const output1 = createHmac(HASH, tempKey).update(BYTE_1).digest();
  const output2 = createHmac(HASH, tempKey).update(output1).update(BYTE_2).digest();
  return [output1, output2];
}

/** Noise SymmetricState (spec rev 34 §5.2). Buffers held here are replaced, never mutated. */
export class SymmetricState {
  readonly cipher = new CipherState();
  private chainingKey: Buffer;
  private hash: Buffer;

  constructor(protocolName: string) {
    this.hash = initialHash(protocolName);
    this.chainingKey = this.hash;
  }

  get handshakeHash(): Buffer {
    return this.hash;
  }

  mixHash(data: Uint8Array): void {
    this.hash = createHash(HASH).update(this.hash).update(data).digest();
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [chainingKey, key] = hkdf2(this.chainingKey, inputKeyMaterial);
    this.chainingKey = chainingKey;
    this.cipher.initializeKey(key);
  }

  encryptAndHash(plaintext: Uint8Array): Buffer {
    const ciphertext = this.cipher.encryptWithAd(this.hash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Buffer {
    const plaintext = this.cipher.decryptWithAd(this.hash, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** The two transport keys: first for initiator→responder, second for responder→initiator. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.chainingKey, Buffer.alloc(0));
    return [new CipherState(k1), new CipherState(k2)];
  }
}
