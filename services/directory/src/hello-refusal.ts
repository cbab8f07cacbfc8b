import { HelloVerdict } from '@commucat/contracts';

/** A Hello the directory refuses; `reason` is for logs, the verdict maps to the client's Error frame. */
export class HelloRefusal extends Error {
  constructor(readonly verdict: HelloVerdict, readonly reason: string) {
    super(reason);
    this.name = 'HelloRefusal';
  }
}

export const invalid = (reason: string): HelloRefusal => new HelloRefusal(HelloVerdict.HELLO_VERDICT_INVALID, reason);
export const pairingRequired = (reason: string): HelloRefusal => new HelloRefusal(HelloVerdict.HELLO_VERDICT_PAIRING_REQUIRED, reason);
export const cryptoFailure = (reason: string): HelloRefusal => new HelloRefusal(HelloVerdict.HELLO_VERDICT_CRYPTO_FAILURE, reason);
