import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { connectBus, Streams } from '@commucat/bus';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports';
import { migratedDatabase, migratedSchema, type MigratedSchema } from './pg-schema';
import { stackEnv } from './stack-env';

const ROOT = path.resolve(__dirname, '../..');

/** OTEL_* variables of this process, except OTEL_SERVICE_NAME: each service names itself. */
function otelEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] =>
    entry[0].startsWith('OTEL_') && entry[0] !== 'OTEL_SERVICE_NAME' && entry[1] !== undefined));
}

export type FleetService = 'secrets' | 'directory' | 'presence' | 'relay' | 'router' | 'media' | 'federation' | 'gateway';

interface RunningProcess {
  name: string;
  service: FleetService;
  child: ChildProcess;
  env: NodeJS.ProcessEnv;
  /** What this process got on top of the fleet's environment (kept for a restart). */
  extra: Record<string, string>;
  adminPort: number;
  logFile: string;
}

export interface FleetOptions {
  gateways?: number;
  domain?: string;
  /** Extra COMMUCAT_* variables for every service. */
  env?: Record<string, string>;
  /** Its own Postgres database instead of a schema (two fleets of two domains). */
  ownDatabase?: boolean;
  /** Start the federation service (default true); false lets a test start it later with peer settings. */
  federation?: boolean;
  /** Start a media replica (default true; its id is mediaReplicaId()). */
  media?: boolean;
  /** Gateway ports chosen in advance (a peer fleet needs the URL before this fleet starts). */
  gatewayPorts?: number[];
}

/**
 * A whole fleet of real service processes (the built dist/main.js of each service) on loopback,
 * isolated in its own Postgres schema, so integration tests exercise exactly what `make up` runs.
 */
export class TestFleet {
  readonly domain: string;
  readonly gatewayPorts: number[] = [];
  private readonly processes = new Map<string, RunningProcess>();
  private constructor(readonly dir: string, readonly db: MigratedSchema, private readonly baseEnv: NodeJS.ProcessEnv, domain: string) {
    this.domain = domain;
  }

  static async start(opts: FleetOptions = {}): Promise<TestFleet> {
    const stack = stackEnv();
    const dir = mkdtempSync(path.join(tmpdir(), 'commucat-fleet-'));
    const db = opts.ownDatabase ? await migratedDatabase('itdb') : await migratedSchema('it');
    execFileSync('bash', [path.join(ROOT, 'scripts/tls-cert.sh'), dir], { stdio: 'ignore' });
    const domain = opts.domain ?? 'example.org';
    const configPath = path.join(dir, 'commucat.toml');
    writeFileSync(configPath, '# test fleet: everything comes from the environment\n');
    const ports = { secrets: await freePort(), directory: await freePort(), presence: await freePort(), relay: await freePort(), router: await freePort(), media: await freePort(), federation: await freePort() };
    const baseEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // The standard OpenTelemetry settings of the test run reach every service (OTEL_EXPORTER_OTLP_*
      // points the whole suite's fleets at one collector); opts.env still wins.
      ...otelEnv(),
      COMMUCAT_CONFIG: configPath,
      COMMUCAT_DOMAIN: domain,
      COMMUCAT_PG_DSN: db.dsn,
      COMMUCAT_REDIS_URL: stack.redisUrl,
      COMMUCAT_NATS_URL: stack.natsUrl,
      // Its own NATS subjects: other fleets (a `make up` one included) never take its frames.
      COMMUCAT_NATS_NAMESPACE: db.schema,
      COMMUCAT_SECRETS_KEK: randomBytes(32).toString('hex'),
      COMMUCAT_AUTO_APPROVE_DEVICES: 'true',
      COMMUCAT_MAX_AUTO_DEVICES: '5',
      COMMUCAT_TLS_CERT: path.join(dir, 'gateway.crt'),
      COMMUCAT_TLS_KEY: path.join(dir, 'gateway.key'),
      COMMUCAT_SECRETS_ADDR: `127.0.0.1:${ports.secrets}`,
      COMMUCAT_DIRECTORY_ADDR: `127.0.0.1:${ports.directory}`,
      COMMUCAT_PRESENCE_ADDR: `127.0.0.1:${ports.presence}`,
      COMMUCAT_SECRETS_GRPC_BIND: `127.0.0.1:${ports.secrets}`,
      COMMUCAT_DIRECTORY_GRPC_BIND: `127.0.0.1:${ports.directory}`,
      COMMUCAT_PRESENCE_GRPC_BIND: `127.0.0.1:${ports.presence}`,
      COMMUCAT_RELAY_ADDR: `127.0.0.1:${ports.relay}`,
      COMMUCAT_RELAY_GRPC_BIND: `127.0.0.1:${ports.relay}`,
      COMMUCAT_ROUTER_ADDR: `127.0.0.1:${ports.router}`,
      COMMUCAT_ROUTER_GRPC_BIND: `127.0.0.1:${ports.router}`,
      COMMUCAT_MEDIA_ADDR: `127.0.0.1:${ports.media}`,
      COMMUCAT_MEDIA_GRPC_BIND: `127.0.0.1:${ports.media}`,
      COMMUCAT_FEDERATION_ADDR: `127.0.0.1:${ports.federation}`,
      COMMUCAT_FEDERATION_GRPC_BIND: `127.0.0.1:${ports.federation}`,
      COMMUCAT_LOG_LEVEL: 'info',
      // Tests open many connections (and fetch server-info for each) from one IP; the limiters
      // have their own tests, which set these back.
      COMMUCAT_RATE_CONNECT_BURST: '100000',
      COMMUCAT_RATE_HTTP_BURST: '100000',
      ...opts.env,
    };
    const fleet = new TestFleet(dir, db, baseEnv, domain);
    fleet.gatewayPorts.push(...(opts.gatewayPorts ?? []));
    try {
      await fleet.startService('secrets');
      await fleet.startService('directory');
      await fleet.startService('presence');
      await fleet.startService('relay');
      await fleet.startService('router');
      if (opts.media ?? true) await fleet.startService('media', { COMMUCAT_MEDIA_REPLICA_ID: fleet.mediaReplicaId() });
      if (opts.federation ?? true) await fleet.startService('federation');
      for (let i = 0; i < (opts.gateways ?? 1); i++) await fleet.startGateway(i);
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  /** The NATS subject prefix of this fleet (pass it to connectBus as `namespace`). */
  get natsNamespace(): string {
    return this.db.schema;
  }

  gatewayId(index = 0): string {
    return `gw-${index}-${this.db.schema}`;
  }

  /** The replica id (input subject token) of the fleet's media replica `index` (0: the one start() runs). */
  mediaReplicaId(index = 0): string {
    return `media-${index}-${this.db.schema}`;
  }

  gatewayUrl(index = 0): string {
    return `https://127.0.0.1:${this.gatewayPorts[index]}/connect`;
  }

  get tlsCert(): Buffer {
    return readFileSync(path.join(this.dir, 'gateway.crt'));
  }

  env(): NodeJS.ProcessEnv {
    return { ...this.baseEnv };
  }

  private async startGateway(index: number): Promise<void> {
    const port = this.gatewayPorts[index] ?? (await freePort());
    this.gatewayPorts[index] = port;
    await this.startProcess(`gateway-${index}`, 'gateway', {
      COMMUCAT_BIND: `127.0.0.1:${port}`,
      COMMUCAT_GATEWAY_ID: this.gatewayId(index),
    });
  }

  /** Starts a service under its own name; `extraEnv` is kept for restarts. */
  async startService(service: Exclude<FleetService, 'gateway'>, extraEnv: Record<string, string> = {}): Promise<void> {
    await this.startProcess(service, service, extraEnv);
  }

  /**
   * A further instance of a service under another name, on its own gRPC port (e.g. a second
   * secrets replica sharing the database). Other services keep talking to the first instance.
   */
  async startExtra(service: Exclude<FleetService, 'gateway'>, name: string, extraEnv: Record<string, string> = {}): Promise<void> {
    if (this.processes.has(name)) throw new Error(`process ${name} already runs`);
    const grpcPort = await freePort();
    await this.startProcess(name, service, { [`COMMUCAT_${service.toUpperCase()}_GRPC_BIND`]: `127.0.0.1:${grpcPort}`, ...extraEnv });
  }

  /** Names of every running process (e.g. to scan all their logs). */
  processNames(): string[] {
    return [...this.processes.keys()];
  }

  private async startProcess(name: string, service: FleetService, extra: Record<string, string>): Promise<void> {
    const adminPort = await freePort();
    const env = { ...this.baseEnv, ...extra, [`COMMUCAT_${service.toUpperCase()}_ADMIN_BIND`]: `127.0.0.1:${adminPort}` };
    const logFile = path.join(this.dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [path.join(ROOT, 'services', service, 'dist/main.js')], { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const proc = { name, service, child, env, extra, adminPort, logFile };
    this.processes.set(name, proc);
    await this.waitReady(proc);
  }

  private async waitReady(proc: RunningProcess, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${this.logTail(proc.name)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${proc.adminPort}/readyz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${proc.name} not ready after ${timeoutMs} ms:\n${this.logTail(proc.name)}`);
  }

  logTail(name: string, lines = 30): string {
    const proc = this.processes.get(name);
    if (!proc) return '';
    return readFileSync(proc.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  logOf(name: string): string {
    const proc = this.processes.get(name);
    return proc ? readFileSync(proc.logFile, 'utf8') : '';
  }

  pidOf(name: string): number | undefined {
    return this.processes.get(name)?.child.pid;
  }

  /** SIGTERM and wait; returns the exit code. */
  async stopProcess(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const proc = this.processes.get(name);
    if (!proc) return null;
    this.processes.delete(name);
    if (proc.child.exitCode !== null) return proc.child.exitCode;
    const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
    proc.child.kill(signal);
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /**
   * Stops the process (SIGTERM, or SIGKILL for a crash), leaves it down for `downMs`, and starts
   * it again with the same settings (ports included).
   */
  async restart(name: string, signal: NodeJS.Signals = 'SIGTERM', downMs = 0): Promise<void> {
    const proc = this.processes.get(name);
    if (!proc) throw new Error(`no process ${name}`);
    await this.stopProcess(name, signal);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.startProcess(name, proc.service, proc.extra);
  }

  /** The admin HTTP port (/metrics, /readyz) of a running process. */
  adminPortOf(name: string): number | undefined {
    return this.processes.get(name)?.adminPort;
  }

  async stop(): Promise<void> {
    for (const name of [...this.processes.keys()].reverse()) await this.stopProcess(name);
    await this.db.drop();
    // The fleet's JetStream streams are file-backed and named after this fleet's namespace.
    const bus = await connectBus({ servers: this.baseEnv.COMMUCAT_NATS_URL!, name: 'test-fleet-cleanup', namespace: this.natsNamespace });
    try {
      for (const stream of Object.values(Streams)) await bus.removeStream(stream.name);
    } finally {
      await bus.close();
    }
  }
}
