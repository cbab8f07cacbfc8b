import type { CommucatConfig } from '@commucat/config';
import type { FleetPeer } from './grpc-call';

export type GrpcService = 'secrets' | 'directory' | 'presence' | 'relay' | 'router' | 'media' | 'federation';

/** The gRPC services of the fleet, in the order they start (dependencies first). */
export const GRPC_SERVICES: readonly GrpcService[] = ['secrets', 'directory', 'presence', 'relay', 'router', 'media', 'federation'];

const ADDRESS_OF: Record<GrpcService, (config: CommucatConfig) => string> = {
  secrets: (c) => c.fleet.secretsAddr,
  directory: (c) => c.fleet.directoryAddr,
  presence: (c) => c.fleet.presenceAddr,
  relay: (c) => c.fleet.relayAddr,
  router: (c) => c.fleet.routerAddr,
  media: (c) => c.fleet.mediaAddr,
  federation: (c) => c.fleet.federationAddr,
};

/** Where the CLI reaches a service: the `fleet.<name>_addr` key. */
export function fleetPeer(config: CommucatConfig, service: GrpcService): FleetPeer {
  return {
    service,
    address: ADDRESS_OF[service](config),
    configKey: `fleet.${service}_addr`,
    envVar: `COMMUCAT_${service.toUpperCase()}_ADDR`,
  };
}
