import type { SecretsServiceClient } from '@commucat/contracts';
import { ed25519PublicKey, ed25519Sign } from '@commucat/crypto';
import { callUnary } from '@commucat/service-kit';

/** Signs event digests with this domain's federation key (spec §5.3, a key apart from the CA, §11.11). */
export interface FederationSigner {
  sign(digest: Uint8Array): Promise<Uint8Array>;
}

/** A signer holding the private key in-process (tests, tools). */
export function localSigner(privateKey: Uint8Array): FederationSigner & { readonly publicKey: Buffer } {
  return { publicKey: ed25519PublicKey(privateKey), sign: async (digest) => ed25519Sign(privateKey, digest) };
}

/** The production signer: the private key never leaves the secrets service. */
export function secretsSigner(client: SecretsServiceClient, deadlineMs = 5000): FederationSigner {
  return {
    sign: async (digest) => {
      const response = await callUnary(client, 'signFederationEvent', { digest: Buffer.from(digest) }, { deadlineMs, waitForReady: true });
      return Buffer.from(response.signature);
    },
  };
}
