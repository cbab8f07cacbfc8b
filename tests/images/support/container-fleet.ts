import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { connectBus, Streams } from '@commucat/bus';
import { createPgPool } from '@commucat/storage';
import { createDatabase, dropDatabase } from '../../support/pg-schema';
import { freePort } from '../../support/ports';
import { stackEnv } from '../../support/stack-env';
import { podman, podmanOk, type PodmanResult } from './podman';

const ROOT = path.resolve(__dirname, '../../..');

/** In start order: each one's readiness needs the ones before it (as in scripts/fleet.sh). */
export const FLEET_SERVICES = ['secrets', 'directory', 'presence', 'relay', 'router', 'media', 'federation', 'gateway'] as const;
export type ContainerService = (typeof FLEET_SERVICES)[number];

/** The uid every image runs as (docker/Dockerfile). */
export const IMAGE_UID = 10001;

/** Where every container sees the gateway's certificate and key. */
export const TLS_MOUNT = '/etc/commucat/tls';

export type ImageName = ContainerService | 'cli' | 'e2e';

export function imageName(name: ImageName, tag = process.env.COMMUCAT_IMAGE_TAG ?? 'dev'): string {
  return `localhost/commucat/${name}:${tag}`;
}

/** The images of `names` that podman does not have. */
export async function missingImages(names: readonly ImageName[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) {
    if ((await podman(['image', 'exists', imageName(name)])).code !== 0) missing.push(imageName(name));
  }
  return missing;
}

/**
 * Explicit open-file and process limits no higher than this process has. Rootful podman otherwise
 * asks the runtime for its defaults (1048576 open files), which a host without CAP_SYS_RESOURCE
 * (a sandbox, a nested container) refuses: "error setting rlimits ... operation not permitted".
 */
function hostRlimits(): string[] {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = (label: string, cap: number): number => {
    const value = new RegExp(`^${label}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1];
    return value === undefined || value === 'unlimited' ? cap : Math.min(cap, Number(value));
  };
  const nofile = hard('Max open files', 65_536);
  // podman lowers its own process limit to 32768 before it starts a container.
  const nproc = hard('Max processes', 8_192);
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
}

/**
 * The whole fleet run from its images with podman, the way an orchestrator runs it: each service
 * its own container, read-only root filesystem, uid 10001, no capabilities, settings from the
 * environment only. The host network reaches the local stack (PostgreSQL, Redis, NATS); every
 * listener is on loopback at a free port, and the fleet has its own database and NATS namespace,
 * so it never meets another fleet on the machine.
 */
export class ContainerFleet {
  readonly domain = 'example.org';
  /** Every container this fleet created (running or not), for teardown. */
  private readonly created: string[] = [];

  private constructor(
    readonly runId: string,
    readonly dir: string,
    /** The fleet's own database (what every container's COMMUCAT_PG_DSN names). */
    readonly dsn: string,
    private readonly natsUrl: string,
    readonly gatewayPort: number,
    readonly adminPorts: Record<ContainerService, number>,
    private readonly envFile: string,
  ) {}

  /** Creates the database, runs `cli migrate` from its image, then starts every service container. */
  static async start(): Promise<ContainerFleet> {
    const stack = stackEnv();
    const runId = `img_${randomBytes(5).toString('hex')}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'commucat-images-'));
    const tlsDir = path.join(dir, 'tls');
    execFileSync('bash', [path.join(ROOT, 'scripts/tls-cert.sh'), tlsDir], { stdio: 'ignore' });
    // The service user must read the key through the bind mount (tls-cert.sh makes it root-only).
    for (const entry of [tlsDir, ...readdirSync(tlsDir).map((f) => path.join(tlsDir, f))]) chownSync(entry, IMAGE_UID, IMAGE_UID);

    const grpcPorts = {} as Record<ContainerService, number>;
    const adminPorts = {} as Record<ContainerService, number>;
    for (const service of FLEET_SERVICES) {
      grpcPorts[service] = await freePort();
      adminPorts[service] = await freePort();
    }
    const gatewayPort = await freePort();
    // A fresh, empty database: the cli image's `migrate` fills it, as the Helm hook Job does.
    const dsn = await createDatabase(runId);
    const env: Record<string, string> = {
      COMMUCAT_DOMAIN: 'example.org',
      COMMUCAT_PG_DSN: dsn,
      COMMUCAT_REDIS_URL: stack.redisUrl,
      COMMUCAT_NATS_URL: stack.natsUrl,
      COMMUCAT_NATS_NAMESPACE: runId,
      COMMUCAT_SECRETS_KEK: randomBytes(32).toString('hex'),
      COMMUCAT_AUTO_APPROVE_DEVICES: 'true',
      COMMUCAT_MAX_AUTO_DEVICES: '5',
      COMMUCAT_TLS_CERT: `${TLS_MOUNT}/gateway.crt`,
      COMMUCAT_TLS_KEY: `${TLS_MOUNT}/gateway.key`,
      COMMUCAT_BIND: `127.0.0.1:${gatewayPort}`,
      COMMUCAT_GATEWAY_ID: `gw-0-${runId}`,
      COMMUCAT_MEDIA_REPLICA_ID: `media-0-${runId}`,
      COMMUCAT_LOG_LEVEL: 'info',
      COMMUCAT_RATE_CONNECT_BURST: '100000',
      COMMUCAT_RATE_HTTP_BURST: '100000',
    };
    for (const service of FLEET_SERVICES) {
      const NAME = service.toUpperCase();
      env[`COMMUCAT_${NAME}_ADMIN_BIND`] = `127.0.0.1:${adminPorts[service]}`;
      if (service === 'gateway') continue;
      env[`COMMUCAT_${NAME}_ADDR`] = `127.0.0.1:${grpcPorts[service]}`;
      env[`COMMUCAT_${NAME}_GRPC_BIND`] = `127.0.0.1:${grpcPorts[service]}`;
    }
    // A file rather than --env arguments: the KEK and the DSN's password stay out of `ps`.
    const envFile = path.join(dir, 'fleet.env');
    writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    chmodSync(envFile, 0o600);

    const fleet = new ContainerFleet(runId, dir, dsn, stack.natsUrl, gatewayPort, adminPorts, envFile);
    try {
      await fleet.migrate();
      for (const service of FLEET_SERVICES) await fleet.startService(service);
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  /** The rows of schema_migrations in the fleet's database, as "<version> <name>". */
  async appliedMigrations(): Promise<string[]> {
    const pool = createPgPool({ dsn: this.dsn, max: 1 });
    try {
      const { rows } = await pool.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
      return rows.map((r) => `${r.version} ${r.name}`);
    } finally {
      await pool.end();
    }
  }

  containerName(service: ContainerService): string {
    return `commucat-${this.runId}-${service}`;
  }

  get gatewayUrl(): string {
    return `https://127.0.0.1:${this.gatewayPort}/connect`;
  }

  get tlsCert(): Buffer {
    return readFileSync(path.join(this.dir, 'tls/gateway.crt'));
  }

  /** The hardening every container of the check runs with (what the Helm chart's securityContext asks). */
  private runArgs(name: string): string[] {
    return [
      ...hostRlimits(),
      // podman runs healthchecks on a systemd timer; without systemd the test runs them itself.
      '--health-interval', 'disable',
      '--name', name,
      '--label', `commucat.test-run=${this.runId}`,
      '--network', 'host',
      '--read-only', '--read-only-tmpfs=true',
      '--user', `${IMAGE_UID}:${IMAGE_UID}`,
      '--cap-drop', 'ALL',
      '--security-opt', 'no-new-privileges',
      '--env-file', this.envFile,
      '--volume', `${path.join(this.dir, 'tls')}:${TLS_MOUNT}:ro`,
    ];
  }

  /** `commucat-cli <args>` from the cli image, to completion. */
  cli(args: string[]): Promise<PodmanResult> {
    return this.runToCompletion('cli', args);
  }

  /** A one-off container of `image` (its entrypoint with `args`), hardened like the services, to completion. */
  async runToCompletion(image: 'cli' | 'e2e', args: string[], env: Record<string, string> = {}): Promise<PodmanResult> {
    const name = `commucat-${this.runId}-${image}-${this.created.length}`;
    this.created.push(name);
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    return podman(['run', '--rm', ...this.runArgs(name), ...envArgs, imageName(image), ...args], 180_000);
  }

  private async migrate(): Promise<void> {
    const result = await this.cli(['migrate']);
    if (result.code !== 0) throw new Error(`commucat-cli migrate (cli image) exited with ${result.code}:\n${result.stderr}${result.stdout}`);
  }

  private async startService(service: ContainerService): Promise<void> {
    const name = this.containerName(service);
    this.created.push(name);
    await podmanOk(['run', '--detach', ...this.runArgs(name), imageName(service)]);
    await this.waitReady(service);
  }

  private async waitReady(service: ContainerService, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const url = `http://127.0.0.1:${this.adminPorts[service]}/readyz`;
    while (Date.now() < deadline) {
      if (!(await this.isRunning(service))) throw new Error(`${service} container exited during start:\n${await this.logs(service)}`);
      try {
        if ((await fetch(url)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${service} container not ready after ${timeoutMs} ms (${url}):\n${await this.logs(service)}`);
  }

  async isRunning(service: ContainerService): Promise<boolean> {
    const result = await podman(['container', 'inspect', '--format', '{{.State.Running}}', this.containerName(service)]);
    return result.code === 0 && result.stdout.trim() === 'true';
  }

  async logs(service: ContainerService, lines = 40): Promise<string> {
    const result = await podman(['logs', '--tail', String(lines), this.containerName(service)]);
    return `${result.stdout}${result.stderr}`;
  }

  /** A command inside the running container of `service` (as the container's user). */
  exec(service: ContainerService, command: string[]): Promise<PodmanResult> {
    return podman(['exec', this.containerName(service), ...command]);
  }

  /** The image's HEALTHCHECK, run now (podman runs it on a timer only where systemd is). */
  healthcheck(service: ContainerService): Promise<PodmanResult> {
    return podman(['healthcheck', 'run', this.containerName(service)]);
  }

  async inspect(service: ContainerService, format: string): Promise<string> {
    return (await podmanOk(['container', 'inspect', '--format', format, this.containerName(service)])).trim();
  }

  /** Removes every container (also after a failed start), the database and the NATS streams. */
  async stop(): Promise<void> {
    const problems: string[] = [];
    for (const name of [...this.created].reverse()) {
      const result = await podman(['rm', '--force', '--ignore', '--time', '10', name]);
      if (result.code !== 0) problems.push(`podman rm ${name}: ${result.stderr.trim()}`);
    }
    try {
      await dropDatabase(this.runId);
    } catch (err) {
      problems.push(`drop database ${this.runId}: ${(err as Error).message}`);
    }
    try {
      const bus = await connectBus({ servers: this.natsUrl, name: 'images-test-cleanup', namespace: this.runId });
      try {
        for (const stream of Object.values(Streams)) await bus.removeStream(stream.name);
      } finally {
        await bus.close();
      }
    } catch (err) {
      problems.push(`NATS streams of ${this.runId}: ${(err as Error).message}`);
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`container fleet cleanup:\n${problems.join('\n')}`);
  }
}
