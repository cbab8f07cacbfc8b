import * as path from 'node:path';
import { callUnary, createGrpcClient } from '@commucat/service-kit';
import { SecretsServiceClient } from '@commucat/contracts';
import { TestFleet } from './fleet';
import { freePort } from './ports';

export interface FederatedPair {
  a: TestFleet;
  b: TestFleet;
  stop(): Promise<void>;
}

export interface ExtraPeer {
  domain: string;
  url: string;
  publicKeyHex: string;
}

export interface FederatedPairOptions {
  /** COMMUCAT_* variables for both federation services (backoff, concurrency, …). */
  federationEnv?: Record<string, string>;
  /** Further peers B accepts events from (a test's own signing key). */
  extraPeersOfB?: ExtraPeer[];
}

async function federationPublicKey(fleet: TestFleet): Promise<string> {
  const secrets = createGrpcClient(SecretsServiceClient, fleet.env().COMMUCAT_SECRETS_ADDR!);
  try {
    const key = await callUnary(secrets, 'getFederationKey', {}, { deadlineMs: 5000, waitForReady: true });
    return Buffer.from(key.publicKey).toString('hex');
  } finally {
    secrets.close();
  }
}

const peerEntry = (p: ExtraPeer): string => `${p.domain},${p.url},${p.publicKeyHex}`;

/**
 * Two complete fleets of two domains, `a.test` and `b.test`, each with its own Postgres database,
 * NATS subject prefix, certificates and federation key, allow-listing each other. The federation
 * services start last, once both gateways' URLs and both federation public keys are known.
 */
export async function startFederatedPair(opts: FederatedPairOptions = {}): Promise<FederatedPair> {
  const ports = { a: await freePort(), b: await freePort() };
  const a = await TestFleet.start({ domain: 'a.test', ownDatabase: true, federation: false, gatewayPorts: [ports.a] });
  let b: TestFleet | undefined;
  try {
    b = await TestFleet.start({ domain: 'b.test', ownDatabase: true, federation: false, gatewayPorts: [ports.b] });
    const keys = { a: await federationPublicKey(a), b: await federationPublicKey(b) };
    const peerA: ExtraPeer = { domain: 'a.test', url: `https://127.0.0.1:${ports.a}`, publicKeyHex: keys.a };
    const peerB: ExtraPeer = { domain: 'b.test', url: `https://127.0.0.1:${ports.b}`, publicKeyHex: keys.b };
    await a.startService('federation', {
      ...opts.federationEnv,
      COMMUCAT_FEDERATION_PEERS: peerEntry(peerB),
      COMMUCAT_FEDERATION_PEER_CA: path.join(b.dir, 'gateway.crt'),
    });
    await b.startService('federation', {
      ...opts.federationEnv,
      COMMUCAT_FEDERATION_PEERS: [peerA, ...(opts.extraPeersOfB ?? [])].map(peerEntry).join(';'),
      COMMUCAT_FEDERATION_PEER_CA: path.join(a.dir, 'gateway.crt'),
    });
  } catch (err) {
    await b?.stop();
    await a.stop();
    throw err;
  }
  const fleetB = b;
  return {
    a,
    b: fleetB,
    async stop() {
      await Promise.allSettled([a.stop(), fleetB.stop()]);
    },
  };
}
