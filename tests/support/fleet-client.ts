import { connectClient, createDeviceIdentity, fetchServerInfo, type ClientConnection, type ConnectClientOptions, type DeviceIdentity } from '@commucat/client';
import type { TestFleet } from './fleet';

/** Connects a TS client to a test fleet gateway with the fleet's own TLS certificate pinned. */
export async function connectTo(fleet: TestFleet, identity: DeviceIdentity, opts: Partial<ConnectClientOptions> & { gateway?: number } = {}): Promise<ClientConnection> {
  const info = await fetchServerInfo(fleet.gatewayUrl(opts.gateway ?? 0), { ca: fleet.tlsCert });
  return connectClient({
    url: fleet.gatewayUrl(opts.gateway ?? 0),
    domain: fleet.domain,
    serverStatic: Buffer.from(info.noise_public as string, 'hex'),
    identity,
    ca: fleet.tlsCert,
    ...opts,
  });
}

let counter = 0;
/** A new device with a handle nobody has used yet. */
export function newIdentity(prefix = 'user'): DeviceIdentity {
  counter += 1;
  return createDeviceIdentity({ handle: `${prefix}-${process.pid}-${counter}-${Date.now()}` });
}
