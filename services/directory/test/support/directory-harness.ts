import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { connectBus, Streams, Subjects, type Bus } from '@commucat/bus';
import { DeviceKeyPair, signCertificate, x25519PublicKey, type DeviceCertificate, type DeviceCertificateData } from '@commucat/crypto';
import { DirectoryServiceClient, DirectoryServiceService, HelloVerdict, type DeviceRevoked, type Notice } from '@commucat/contracts';
import {
  callUnary, createGrpcClient, createServiceRuntime, GrpcStatusError, type ServiceRuntime,
  type UnaryMethodName, type UnaryRequest, type UnaryResponse,
} from '@commucat/service-kit';
import { initTelemetry, type Telemetry } from '@commucat/telemetry';
import { migratedSchema, type MigratedSchema } from '../../../../tests/support/pg-schema';
import { stackEnv } from '../../../../tests/support/stack-env';
import type { CertificateAuthority } from '../../src/certificate-authority';
import { DIRECTORY_ERROR_CODE_METADATA } from '../../src/directory-errors';
import { directoryHandlers, type DirectoryDeps } from '../../src/directory-service';
import { HelloAuthorizer } from '../../src/hello-authorizer';
import { RouterNoticePublisher } from '@commucat/bus';
import type { RotationPolicy } from '../../src/rotation-service';
import { FederationDouble } from './federation-double';

/** A real CA (the signing code secrets runs), in-process. */
export class LocalCa implements CertificateAuthority {
  constructor(readonly keys = DeviceKeyPair.generate()) {}
  async publicKey(): Promise<Buffer> {
    return this.keys.publicKey;
  }
  async sign(data: Omit<DeviceCertificateData, 'issuer'>): Promise<DeviceCertificate> {
    return signCertificate({ ...data, issuer: this.keys.publicKey }, this.keys.privateKey);
  }
}

export const DOMAIN = 'example.org';
export const PAIRING_TTL = 600;
export const CERTIFICATE_LIFETIME = 30 * 86400;
/** The harness's rotation.device.*: no minimum interval, so tests can rotate freshly made devices. */
export const ROTATION: RotationPolicy = {
  enabled: true, minIntervalSeconds: 0, proofTtlSeconds: 600, notifyChannel: 7, certificateLifetimeSeconds: CERTIFICATE_LIFETIME,
};
/** The peer domains the harness's federation knows; any other domain is not configured. */
export const PEER_DOMAINS = ['b.test', 'c.test'];
export const silentLogger = pino({ level: 'silent' });

export interface SignedUp {
  userId: string;
  handle: string;
  deviceId: string;
  keys: DeviceKeyPair;
  token: string;
}

type Method = UnaryMethodName<DirectoryServiceClient>;

/**
 * The directory's gRPC service on a real runtime, over a fresh Postgres schema and a NATS bus in
 * its own namespace: what the gateway and the CLI talk to.
 */
export class DirectoryHarness {
  db!: MigratedSchema;
  ca = new LocalCa();
  /** What the directory enqueued for peers; can be told to be down. */
  federation = new FederationDouble(PEER_DOMAINS);
  /** The directory's bus and a listener's, both in this harness's namespace. */
  bus!: Bus;
  listener!: Bus;
  revocations: DeviceRevoked[] = [];
  /** Rotations the directory counted (its commucat_device_rotations_total). */
  rotationsCounted = 0;
  /** KEY_UPDATE notices seen on the router's notice subject. */
  notices: Notice[] = [];
  private telemetry!: Telemetry;
  private runtime!: ServiceRuntime;
  private client!: DirectoryServiceClient;
  /** host:port of the directory gRPC service (for a gateway under test). */
  address!: string;
  private seq = 0;

  async start(prefix: string): Promise<void> {
    this.db = await migratedSchema(prefix);
    const outbox = await this.federation.start();
    const namespace = `dirtest_${randomBytes(4).toString('hex')}`;
    this.bus = await connectBus({ servers: stackEnv().natsUrl, namespace, name: `${prefix}-directory` });
    this.listener = await connectBus({ servers: stackEnv().natsUrl, namespace, name: `${prefix}-listener` });
    this.listener.subscribe(Subjects.deviceRevoked, {}, (event) => { this.revocations.push(event); });
    this.listener.subscribe(Subjects.routerNotice, {}, (notice) => { this.notices.push(notice); });
    await this.listener.ready();
    this.telemetry = initTelemetry({ serviceName: 'directory-test', logLevel: 'silent' });
    this.runtime = createServiceRuntime({ name: 'directory', grpcBind: '127.0.0.1:0', adminBind: '127.0.0.1:0', telemetry: this.telemetry });
    const deps: DirectoryDeps = {
      pool: this.db.pool,
      authorizer: this.authorizer(),
      ca: this.ca,
      publisher: { deviceRevoked: (event) => this.bus.publish(Subjects.deviceRevoked, {}, event) },
      domain: DOMAIN,
      pairing: { pairingTtlSeconds: PAIRING_TTL, certificateLifetimeSeconds: CERTIFICATE_LIFETIME },
      notices: new RouterNoticePublisher(this.bus),
      rotation: ROTATION,
      rotations: { inc: () => { this.rotationsCounted += 1; } },
      federation: outbox,
      logger: silentLogger,
    };
    this.runtime.addGrpcService(DirectoryServiceService, directoryHandlers(deps));
    const ports = await this.runtime.start();
    this.address = `127.0.0.1:${ports.grpcPort}`;
    this.client = createGrpcClient(DirectoryServiceClient, this.address);
  }

  async stop(): Promise<void> {
    this.client?.close();
    await this.runtime?.stop();
    await this.telemetry?.shutdown();
    await this.federation.stop();
    await this.bus?.removeStream(Streams.routerNotice.name).catch(() => false);
    await this.bus?.close();
    await this.listener?.close();
    await this.db?.drop();
  }

  authorizer(): HelloAuthorizer {
    return new HelloAuthorizer(this.db.pool, this.ca, {
      domain: DOMAIN, autoApproveDevices: true, maxAutoDevicesPerUser: 0, sessionTtlSeconds: 3600,
      certificateLifetimeSeconds: 30 * 86400, certificateReuseMarginSeconds: 86400,
    });
  }

  rpc<M extends Method>(method: M, request: UnaryRequest<DirectoryServiceClient, M>): Promise<UnaryResponse<DirectoryServiceClient, M>> {
    return callUnary(this.client, method, request, { deadlineMs: 10_000 });
  }

  /** The status and trailer code a refused call answers with. */
  async refusal<M extends Method>(method: M, request: UnaryRequest<DirectoryServiceClient, M>): Promise<{ status: grpc.status; code: string | undefined }> {
    const outcome = await this.rpc(method, request).then(() => undefined, (err: unknown) => err);
    if (!GrpcStatusError.is(outcome)) throw new Error(`${method} was expected to fail but succeeded`);
    return { status: outcome.code, code: outcome.metadata.get(DIRECTORY_ERROR_CODE_METADATA)[0] as string | undefined };
  }

  /** A new user with one device and a REST session, made the way a real client signs up: a Hello. */
  async signUp(name = 'user'): Promise<SignedUp> {
    this.seq += 1;
    const keys = DeviceKeyPair.generate();
    const handle = `${name}-${this.seq}-${randomBytes(3).toString('hex')}`;
    const deviceId = `dev-${randomBytes(16).toString('hex')}`;
    const res = await this.authorizer().authorize({ deviceId, devicePublic: keys.publicKey, clientStatic: x25519PublicKey(keys.privateKey), handleHint: handle });
    if (res.verdict !== HelloVerdict.HELLO_VERDICT_AUTHORIZED) throw new Error(`sign-up refused: ${res.reason}`);
    return { userId: res.user!.userId, handle, deviceId, keys, token: res.sessionToken };
  }

  /** A session for a registered device, obtained as a real client does: a Hello of that device. */
  async connect(deviceId: string, devicePublic: Buffer, privateKey: Buffer): Promise<string> {
    const res = await this.authorizer().authorize({ deviceId, devicePublic, clientStatic: x25519PublicKey(privateKey) });
    if (res.verdict !== HelloVerdict.HELLO_VERDICT_AUTHORIZED) throw new Error(`hello refused: ${res.reason}`);
    return res.sessionToken;
  }

  async waitFor<T>(probe: () => T | undefined, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
