import { randomBytes, type KeyObject } from 'node:crypto';
import { blake3 } from './blake3';
import { exportEd25519Public, importEd25519Private, ed25519SignWithKey } from './ed25519';
import { CryptoError } from './errors';

const MIN_SEED_LEN = 32;
// The real client draws 64 random bytes for its seed (§5.1).
const GENERATED_SEED_LEN = 64;

/** commucat-crypto `DeviceKeyPair`: an Ed25519 key whose secret is BLAKE3(seed) (§5.1). */
export class DeviceKeyPair {
  private constructor(
    readonly privateKey: Buffer,
    readonly publicKey: Buffer,
    /** The imported private key, so signers need not import it again. */
    readonly signingKey: KeyObject,
  ) {}

  static fromSeed(seed: Uint8Array): DeviceKeyPair {
    if (seed.length < MIN_SEED_LEN) throw new CryptoError('InvalidKey', `seed must be at least ${MIN_SEED_LEN} bytes`);
    const privateKey = blake3(seed);
    const signingKey = importEd25519Private(privateKey);
    return new DeviceKeyPair(privateKey, exportEd25519Public(signingKey), signingKey);
  }

  static generate(): DeviceKeyPair {
    return DeviceKeyPair.fromSeed(randomBytes(GENERATED_SEED_LEN));
  }
}

/** commucat-crypto `EventSigner`: Ed25519 signatures with a device (or CA) key. */
export class EventSigner {
  readonly publicKey: Buffer;
  private readonly signingKey: KeyObject;

  constructor(keys: DeviceKeyPair) {
    this.publicKey = keys.publicKey;
    this.signingKey = keys.signingKey;
  }

  sign(message: Uint8Array): Buffer {
    return ed25519SignWithKey(this.signingKey, message);
  }
}
