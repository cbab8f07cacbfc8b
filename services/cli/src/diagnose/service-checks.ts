import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import type { CommucatConfig } from '@commucat/config';
import { service as healthService } from 'grpc-health-check';
import { fleetPeer, GRPC_SERVICES } from '../fleet-peers';
import { tidyGrpcDetails } from '../grpc-call';
import type { Check } from './check';

const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');

interface HealthCheckResponse {
  status: string | number;
}

/** `grpc.health.v1.Health/Check` for the whole server (service ""), which must be SERVING. */
function grpcHealth(address: string, timeoutMs: number): Promise<string> {
  const client = new HealthClient(address, credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    const check = client['Check'] as (req: { service: string }, opts: { deadline: number }, cb: (err: ServiceError | null, res?: HealthCheckResponse) => void) => void;
    check.call(client, { service: '' }, { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) reject(new Error(tidyGrpcDetails(err.details || err.message)));
      else if (res?.status === 'SERVING' || res?.status === 1) resolve('SERVING');
      else reject(new Error(`health status ${String(res?.status)}`));
    });
  });
}

export function grpcHealthChecks(config: CommucatConfig): Check[] {
  return GRPC_SERVICES.map((service) => {
    const peer = fleetPeer(config, service);
    return {
      component: `${service} grpc`,
      target: peer.address,
      run: async (timeoutMs: number) => {
        try {
          return await grpcHealth(peer.address, timeoutMs);
        } catch (err) {
          throw new Error(`${(err as Error).message}; is the fleet up (\`make up\`)? check ${peer.configKey} (${peer.envVar})`);
        }
      },
    };
  });
}

/** A wildcard bind is reachable on loopback from the same host. */
function dialable(bind: string): string {
  return bind.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

/** The failing checks of a 503 /readyz answer, e.g. `postgres: timed out`. */
function describeNotReady(body: unknown): string {
  if (typeof body !== 'object' || body === null) return 'not ready';
  const { status, checks } = body as { status?: unknown; checks?: Record<string, unknown> };
  const failing = Object.entries(checks ?? {}).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k}: ${String(v)}`);
  return failing.length > 0 ? failing.join('; ') : `status ${String(status)}`;
}

export function adminReadyCheck(service: string, bind: string): Check {
  const url = `http://${dialable(bind)}/readyz`;
  return {
    component: `${service} admin`,
    target: `${dialable(bind)}/readyz`,
    async run(timeoutMs) {
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const cause = (err as Error & { cause?: Error }).cause;
        throw new Error(`${cause?.message ?? (err as Error).message}; check services.${service}.admin_bind`);
      }
      const body: unknown = await res.json().catch(() => undefined);
      if (res.status === 200) return 'ready';
      throw new Error(`HTTP ${res.status}: ${describeNotReady(body)}`);
    },
  };
}
