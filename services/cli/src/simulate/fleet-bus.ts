import { type Bus, connectBus, natsAuthOf } from '@commucat/bus';
import type { CommucatConfig } from '@commucat/config';
import { CliError } from '../errors';

/**
 * The fleet's NATS bus (same URL and namespace as the services), or CliError('UNREACHABLE').
 * connectBus has no connect timeout of its own, so a bus that arrives too late is closed.
 */
export async function connectFleetBus(config: CommucatConfig, name: string, timeoutMs: number): Promise<Bus> {
  const connecting = connectBus({
    servers: config.fleet.natsUrl,
    auth: natsAuthOf(config.fleet),
    name,
    ...(config.fleet.natsNamespace !== undefined ? { namespace: config.fleet.natsNamespace } : {}),
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void connecting.then((bus) => bus.close(), () => undefined);
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([connecting, late]);
  } catch (err) {
    throw new CliError(
      'UNREACHABLE',
      `cannot connect to NATS: ${(err as Error).message}`,
      'is the fleet up? `make up`; check fleet.nats_url (COMMUCAT_NATS_URL)',
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}
