import type { KeyObject } from 'node:crypto';
import { NoiseError } from '../errors';
import { TAG_LEN } from './cipher-state';
import { MAX_NOISE_MESSAGE } from './limits';
import {
  HANDSHAKE_PATTERNS,
  type HandshakePatternSpec,
  type MessageToken,
  type NoisePattern,
  type NoisePatternName,
  needsLocalStatic,
  protocolName,
} from './patterns';
import type { NoiseStaticKey } from './static-key';
import { SymmetricState } from './symmetric-state';
import { NoiseTransport } from './transport';
import { DH_LEN, generateX25519, importX25519Private, importX25519Public, x25519SharedSecret, type X25519PrivateKey } from './x25519';

interface CommonHandshakeOptions {
  initiator: boolean;
  /** Raw prologue bytes; both sides must hold the same (§3.1, default "commucat"). */
  prologue: Uint8Array;
  /**
   * The peer's static public key. Required when the pattern has it as a pre-message (XK/IK
   * initiator: the server key). When the pattern transmits it instead (XK/IK responder), it is
   * the key the peer must send: a different one fails readMessage with InvalidKey.
   */
  remoteStatic?: Uint8Array;
  /** Tests only: use this X25519 private key instead of a fresh ephemeral. */
  fixedEphemeral?: Uint8Array;
}

export type NoiseHandshakeOptions = CommonHandshakeOptions &
  (
    | { pattern: NoisePattern; staticKey: NoiseStaticKey }
    | { pattern: Exclude<NoisePatternName, NoisePattern>; staticKey?: NoiseStaticKey }
  );

const EMPTY = Buffer.alloc(0);

/**
 * Noise_{pattern}_25519_ChaChaPoly_BLAKE2s handshake (spec rev 34), driven by the token lists
 * in patterns.ts. Any failed read (or a write that failed after touching the state) leaves the
 * object unusable: every later call throws InvalidState.
 */
export class NoiseHandshake {
  private readonly spec: HandshakePatternSpec;
  private readonly initiator: boolean;
  private readonly symmetric: SymmetricState;
  private readonly localStatic: NoiseStaticKey | undefined;
  private readonly expectedRemoteStatic: Buffer | undefined;
  private localEphemeral: X25519PrivateKey | undefined;
  private remoteEphemeralKey: KeyObject | undefined;
  private remoteStaticKey: KeyObject | undefined;
  private remoteStaticBytes: Buffer | undefined;
  private messageIndex = 0;
  private failed = false;
  private splitDone = false;

  constructor(options: NoiseHandshakeOptions) {
    const spec = HANDSHAKE_PATTERNS[options.pattern];
    if (spec === undefined) throw new NoiseError('InvalidState', `unsupported pattern ${String(options.pattern)}`);
    this.spec = spec;
    this.initiator = options.initiator;
    if (needsLocalStatic(spec, this.initiator) && options.staticKey === undefined) {
      throw new NoiseError('InvalidKey', `${options.pattern} needs a local static key`);
    }
    this.localStatic = options.staticKey;
    if (options.fixedEphemeral !== undefined) this.localEphemeral = importX25519Private(options.fixedEphemeral);

    const remoteIsPreMessage = this.initiator ? spec.responderStaticPreMessage : spec.initiatorStaticPreMessage;
    if (options.remoteStatic !== undefined) {
      if (options.remoteStatic.length !== DH_LEN) throw new NoiseError('InvalidKey', 'remote static key must be 32 bytes');
      if (remoteIsPreMessage) this.setRemoteStatic(Buffer.from(options.remoteStatic));
      else this.expectedRemoteStatic = Buffer.from(options.remoteStatic);
    } else if (remoteIsPreMessage) {
      throw new NoiseError('InvalidKey', `${options.pattern} needs the remote static key in advance`);
    }

    this.symmetric = new SymmetricState(protocolName(options.pattern));
    this.symmetric.mixHash(options.prologue);
    // Pre-message keys: the initiator's first, then the responder's (spec §7.1).
    if (spec.initiatorStaticPreMessage) this.symmetric.mixHash(this.initiator ? this.localStaticKey().publicKey : this.remoteStaticBytes!);
    if (spec.responderStaticPreMessage) this.symmetric.mixHash(this.initiator ? this.remoteStaticBytes! : this.localStaticKey().publicKey);
  }

  get isFinished(): boolean {
    return this.messageIndex >= this.spec.messages.length;
  }

  /** The peer's static public key once known (pre-message or received). */
  get remoteStatic(): Buffer | undefined {
    return this.remoteStaticBytes === undefined ? undefined : Buffer.from(this.remoteStaticBytes);
  }

  /** The current h; after the last message it is the channel-binding handshake hash. */
  get handshakeHash(): Buffer {
    return Buffer.from(this.symmetric.handshakeHash);
  }

  writeMessage(payload: Uint8Array = EMPTY): Buffer {
    this.assertUsable();
    if (this.isFinished) throw new NoiseError('InvalidState', 'handshake already finished');
    if (!this.isMyTurn()) throw new NoiseError('InvalidState', 'it is the peer’s turn to write');
    if (payload.length > MAX_NOISE_MESSAGE) throw new NoiseError('MessageTooLarge', 'handshake payload too large');
    try {
      const parts: Buffer[] = [];
      for (const token of this.spec.messages[this.messageIndex]!) this.writeToken(token, parts);
      parts.push(this.symmetric.encryptAndHash(payload));
      const message = Buffer.concat(parts);
      if (message.length > MAX_NOISE_MESSAGE) {
        throw new NoiseError('MessageTooLarge', `handshake message of ${message.length} bytes exceeds ${MAX_NOISE_MESSAGE}`);
      }
      this.messageIndex++;
      return message;
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }

  /** Returns the decrypted payload. */
  readMessage(message: Uint8Array): Buffer {
    this.assertUsable();
    if (this.isFinished) throw new NoiseError('InvalidState', 'handshake already finished');
    if (this.isMyTurn()) throw new NoiseError('InvalidState', 'it is this side’s turn to write');
    try {
      if (message.length > MAX_NOISE_MESSAGE) {
        throw new NoiseError('MessageTooLarge', `handshake message of ${message.length} bytes exceeds ${MAX_NOISE_MESSAGE}`);
      }
      let offset = 0;
      for (const token of this.spec.messages[this.messageIndex]!) offset = this.readToken(token, message, offset);
      if (this.symmetric.cipher.hasKey) this.requireBytes(message, offset, TAG_LEN);
      const payload = this.symmetric.decryptAndHash(message.subarray(offset));
      this.messageIndex++;
      return payload;
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }

  /** Transport ciphers; callable once, after the last handshake message. */
  split(): NoiseTransport {
    this.assertUsable();
    if (!this.isFinished) throw new NoiseError('InvalidState', 'handshake not finished');
    // A second pair of ciphers with the same keys would reuse nonces.
    if (this.splitDone) throw new NoiseError('InvalidState', 'split already called');
    this.splitDone = true;
    const [initiatorToResponder, responderToInitiator] = this.symmetric.split();
    return this.initiator
      ? new NoiseTransport(initiatorToResponder, responderToInitiator)
      : new NoiseTransport(responderToInitiator, initiatorToResponder);
  }

  private writeToken(token: MessageToken, parts: Buffer[]): void {
    switch (token) {
      case 'e': {
        this.localEphemeral ??= generateX25519();
        parts.push(this.localEphemeral.publicKey);
        this.symmetric.mixHash(this.localEphemeral.publicKey);
        return;
      }
      case 's':
        parts.push(this.symmetric.encryptAndHash(this.localStaticKey().publicKey));
        return;
      default:
        this.mixDh(token);
    }
  }

  private readToken(token: MessageToken, message: Uint8Array, offset: number): number {
    switch (token) {
      case 'e': {
        const end = this.requireBytes(message, offset, DH_LEN);
        const remoteEphemeral = message.subarray(offset, end);
        this.remoteEphemeralKey = importX25519Public(remoteEphemeral);
        this.symmetric.mixHash(remoteEphemeral);
        return end;
      }
      case 's': {
        const end = this.requireBytes(message, offset, this.symmetric.cipher.hasKey ? DH_LEN + TAG_LEN : DH_LEN);
        const remoteStatic = this.symmetric.decryptAndHash(message.subarray(offset, end));
        if (this.expectedRemoteStatic !== undefined && !remoteStatic.equals(this.expectedRemoteStatic)) {
          throw new NoiseError('InvalidKey', 'peer sent a different static key than expected');
        }
        this.setRemoteStatic(remoteStatic);
        return end;
      }
      default:
        this.mixDh(token);
        return offset;
    }
  }

  private mixDh(token: 'ee' | 'es' | 'se' | 'ss'): void {
    // In "xy", x names the initiator's key and y the responder's; each side uses its own private half.
    const [initiatorKey, responderKey] = token.split('') as ['e' | 's', 'e' | 's'];
    const localKind = this.initiator ? initiatorKey : responderKey;
    const remoteKind = this.initiator ? responderKey : initiatorKey;
    const privateKey = localKind === 'e' ? this.localEphemeral?.keyObject : this.localStatic?.keyObject;
    const publicKey = remoteKind === 'e' ? this.remoteEphemeralKey : this.remoteStaticKey;
    if (privateKey === undefined || publicKey === undefined) throw new NoiseError('InvalidState', `keys for ${token} missing`);
    this.symmetric.mixKey(x25519SharedSecret(privateKey, publicKey));
  }

  private setRemoteStatic(publicKey: Buffer): void {
    this.remoteStaticKey = importX25519Public(publicKey);
    this.remoteStaticBytes = publicKey;
  }

  private localStaticKey(): NoiseStaticKey {
    if (this.localStatic === undefined) throw new NoiseError('InvalidKey', 'no local static key');
    return this.localStatic;
  }

  private requireBytes(message: Uint8Array, offset: number, length: number): number {
    if (message.length - offset < length) throw new NoiseError('InvalidMessage', 'handshake message too short');
    return offset + length;
  }

  private isMyTurn(): boolean {
    return (this.messageIndex % 2 === 0) === this.initiator;
  }

  private assertUsable(): void {
    if (this.failed) throw new NoiseError('InvalidState', 'handshake failed earlier');
  }
}
