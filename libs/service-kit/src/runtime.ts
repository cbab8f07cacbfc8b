import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as GrpcServer, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { parseHostPort } from '@commucat/config';
import type { Telemetry } from '@commucat/telemetry';
import { HealthImplementation } from 'grpc-health-check';
import { createAdminServer, type RuntimeState } from './admin-server';
import { ServiceKitError } from './errors';
import { instrumentImplementation, serviceNameOf } from './grpc-handlers';
import { grpcServerMetrics } from './grpc-metrics';
import { type ReadinessCheck, runReadinessChecks } from './readiness';
import { GRPC_MAX_MESSAGE_BYTES } from './grpc-limits';

export interface ServiceRuntimeOptions {
  /** Service name for logs, health output and span names (e.g. `directory`). */
  readonly name: string;
  /** host:port of the admin HTTP server (/healthz, /readyz, /metrics); port 0 = any free port. */
  readonly adminBind: string;
  /** host:port of the gRPC server; omit for a process that serves no gRPC (the gateway). */
  readonly grpcBind?: string;
  readonly telemetry: Telemetry;
  /** Budget for each shutdown hook and for draining gRPC calls before forcing (default 10 s). */
  readonly shutdownTimeoutMs?: number;
  /** Budget for each readiness check (default 2 s). */
  readonly readinessTimeoutMs?: number;
}

export interface StartedPorts {
  readonly grpcPort?: number;
  readonly adminPort: number;
}

export type ShutdownHook = () => void | Promise<void>;

export interface ServiceRuntime {
  readonly name: string;
  readonly telemetry: Telemetry;
  readonly shutdownTimeoutMs: number;
  /** True between a successful start() and the beginning of stop(). */
  readonly ready: boolean;
  readonly state: RuntimeState;
  /** Registers a gRPC service; every unary handler is traced and measured. Before start() only. */
  addGrpcService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void;
  /** A dependency probe for /readyz; it rejects (or throws) when the dependency is unusable. */
  addReadinessCheck(name: string, check: ReadinessCheck): void;
  /**
   * Runs on stop(), after readiness is withdrawn and in-flight gRPC calls have drained (so hooks
   * may close the pools those calls use); last added runs first.
   */
  onShutdown(hook: ShutdownHook): void;
  start(): Promise<StartedPorts>;
  /**
   * Withdraws readiness (gRPC health NOT_SERVING, /readyz 503), drains gRPC (forcing after the
   * timeout), runs the shutdown hooks and closes the admin server. Rejects with
   * SHUTDOWN_HOOK_FAILED after completing all of that if any hook failed. Idempotent.
   */
  stop(): Promise<void>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const DEFAULT_READINESS_TIMEOUT_MS = 2_000;

function timeout(ms: number, what: string): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

class Runtime implements ServiceRuntime {
  readonly name: string;
  readonly telemetry: Telemetry;
  readonly shutdownTimeoutMs: number;
  private readonly readinessTimeoutMs: number;
  private readonly adminAddress: { host: string; port: number };
  private readonly grpcBind: string | undefined;
  private readonly grpcServer: GrpcServer | undefined;
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING' });
  private readonly grpcServiceNames: string[] = [];
  private readonly readinessChecks = new Map<string, ReadinessCheck>();
  private readonly readinessFailures = new Set<string>();
  private readonly shutdownHooks: ShutdownHook[] = [];
  private readonly adminServer: HttpServer;
  private currentState: RuntimeState = 'created';
  private stopping: Promise<void> | undefined;

  constructor(opts: ServiceRuntimeOptions) {
    this.name = opts.name;
    this.telemetry = opts.telemetry;
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.readinessTimeoutMs = opts.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
    // Parse now: a bad address should fail at construction, not halfway through start().
    this.adminAddress = parseHostPort(opts.adminBind);
    if (opts.grpcBind !== undefined) {
      parseHostPort(opts.grpcBind);
      this.grpcBind = opts.grpcBind;
      this.grpcServer = new GrpcServer({
        'grpc.max_receive_message_length': GRPC_MAX_MESSAGE_BYTES,
        'grpc.max_send_message_length': GRPC_MAX_MESSAGE_BYTES,
      });
      this.health.addToServer(this.grpcServer);
    }
    this.adminServer = createAdminServer({
      serviceName: this.name,
      registry: this.telemetry.registry,
      logger: this.telemetry.logger,
      state: () => this.currentState,
      checkReadiness: () => this.checkReadiness(),
    });
  }

  get ready(): boolean {
    return this.currentState === 'running';
  }

  get state(): RuntimeState {
    return this.currentState;
  }

  addGrpcService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    if (this.grpcServer === undefined) {
      throw new ServiceKitError('GRPC_NOT_CONFIGURED', `${this.name}: addGrpcService needs a grpcBind address`);
    }
    if (this.currentState !== 'created') {
      throw new ServiceKitError('SERVICE_ADDED_AFTER_START', `${this.name}: gRPC services must be added before start()`);
    }
    const instrumented = instrumentImplementation(definition, implementation, {
      tracer: this.telemetry.tracer,
      logger: this.telemetry.logger,
      metrics: grpcServerMetrics(this.telemetry.registry),
    });
    this.grpcServer.addService(definition, instrumented);
    const serviceName = serviceNameOf(definition);
    this.grpcServiceNames.push(serviceName);
    this.health.setStatus(serviceName, 'NOT_SERVING');
  }

  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.readinessChecks.set(name, check);
  }

  onShutdown(hook: ShutdownHook): void {
    this.shutdownHooks.push(hook);
  }

  async start(): Promise<StartedPorts> {
    if (this.currentState !== 'created') {
      throw new ServiceKitError('RUNTIME_ALREADY_STARTED', `${this.name}: start() was already called`);
    }
    this.currentState = 'starting';
    try {
      const adminPort = await this.listenAdmin();
      const grpcPort = await this.bindGrpc();
      this.setGrpcHealth('SERVING');
      this.currentState = 'running';
      this.telemetry.logger.info({ adminPort, grpcPort }, `${this.name} started`);
      return grpcPort === undefined ? { adminPort } : { grpcPort, adminPort };
    } catch (error) {
      this.currentState = 'stopped';
      this.grpcServer?.forceShutdown();
      this.adminServer.close();
      throw error;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    const wasStarted = this.currentState !== 'created';
    this.currentState = 'stopping';
    this.setGrpcHealth('NOT_SERVING');
    const logger = this.telemetry.logger;
    logger.info(`${this.name} shutting down`);

    // In-flight calls finish first: the hooks close the pools and clients they are using.
    if (wasStarted) await this.drainGrpc();
    const failures: unknown[] = [];
    for (const hook of [...this.shutdownHooks].reverse()) {
      const limit = timeout(this.shutdownTimeoutMs, 'shutdown hook');
      try {
        await Promise.race([Promise.resolve().then(hook), limit.promise]);
      } catch (error) {
        failures.push(error);
        logger.error({ err: error }, 'shutdown hook failed');
      } finally {
        limit.cancel();
      }
    }

    if (wasStarted) await this.closeAdmin();
    this.currentState = 'stopped';
    logger.info(`${this.name} stopped`);
    if (failures.length > 0) {
      throw new ServiceKitError('SHUTDOWN_HOOK_FAILED', `${failures.length} shutdown hook(s) failed`, {
        cause: new AggregateError(failures),
      });
    }
  }

  private async checkReadiness() {
    const report = await runReadinessChecks(this.readinessChecks, this.readinessTimeoutMs);
    // Log transitions only: probes run every few seconds and would flood the log otherwise.
    for (const [name, result] of Object.entries(report.checks)) {
      if (result !== 'ok' && !this.readinessFailures.has(name)) {
        this.readinessFailures.add(name);
        this.telemetry.logger.warn({ check: name, reason: result }, 'readiness check failing');
      } else if (result === 'ok' && this.readinessFailures.delete(name)) {
        this.telemetry.logger.info({ check: name }, 'readiness check recovered');
      }
    }
    return report;
  }

  private setGrpcHealth(status: 'SERVING' | 'NOT_SERVING'): void {
    this.health.setStatus('', status);
    for (const name of this.grpcServiceNames) this.health.setStatus(name, status);
  }

  private listenAdmin(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const onError = (error: Error) =>
        reject(new ServiceKitError('BIND_FAILED', `${this.name}: admin server cannot listen on ${this.adminAddress.host}:${this.adminAddress.port}: ${error.message}`, { cause: error }));
      this.adminServer.once('error', onError);
      this.adminServer.listen(this.adminAddress.port, this.adminAddress.host, () => {
        this.adminServer.off('error', onError);
        resolve((this.adminServer.address() as AddressInfo).port);
      });
    });
  }

  private bindGrpc(): Promise<number | undefined> {
    const server = this.grpcServer;
    const address = this.grpcBind;
    if (server === undefined || address === undefined) return Promise.resolve(undefined);
    return new Promise<number>((resolve, reject) => {
      server.bindAsync(address, ServerCredentials.createInsecure(), (error, port) => {
        if (error) {
          reject(new ServiceKitError('BIND_FAILED', `${this.name}: gRPC server cannot bind ${address}: ${error.message}`, { cause: error }));
        } else {
          resolve(port);
        }
      });
    });
  }

  /** Lets in-flight calls finish, then cuts the rest off at the deadline. */
  private drainGrpc(): Promise<void> {
    const server = this.grpcServer;
    if (server === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.telemetry.logger.warn('gRPC calls still running at the shutdown deadline; forcing');
        server.forceShutdown();
        resolve();
      }, this.shutdownTimeoutMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private closeAdmin(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.adminServer.closeAllConnections(), this.shutdownTimeoutMs);
      this.adminServer.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.adminServer.closeIdleConnections();
    });
  }
}

export function createServiceRuntime(opts: ServiceRuntimeOptions): ServiceRuntime {
  return new Runtime(opts);
}
