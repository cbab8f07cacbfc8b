import * as grpc from '@grpc/grpc-js';
import { FederationServiceClient, FederationServiceService, type FederationEnqueueRequest, type FederationServiceServer } from '@commucat/contracts';
import { createGrpcClient } from '@commucat/service-kit';
import { GrpcFederationOutbox } from '../../src/grpc-federation-outbox';

/**
 * Our own federation service's Enqueue, in-process over real gRPC: records what the directory
 * enqueues, knows a fixed set of peers (others are INVALID_ARGUMENT, as the real one answers an
 * unconfigured peer) and can be told to be down (UNAVAILABLE). The real outbox is covered by the
 * federation tests and the two-fleet integration test.
 */
export class FederationDouble {
  readonly calls: FederationEnqueueRequest[] = [];
  /** While true every Enqueue answers UNAVAILABLE. */
  down = false;
  private server = new grpc.Server();
  private client!: FederationServiceClient;
  private seq = 0;

  constructor(private readonly peers: readonly string[]) {}

  async start(): Promise<GrpcFederationOutbox> {
    const handlers: FederationServiceServer = {
      enqueue: ({ request }, done) => {
        if (this.down) return done({ code: grpc.status.UNAVAILABLE, details: 'federation storage unavailable' });
        if (!this.peers.includes(request.peer.toLowerCase())) return done({ code: grpc.status.INVALID_ARGUMENT, details: `peer ${request.peer} is not configured` });
        this.calls.push(request);
        this.seq += 1;
        done(null, { outboxId: String(this.seq), eventId: `evt-${this.seq}`, created: true });
      },
      receive: (_call, done) => done({ code: grpc.status.UNIMPLEMENTED, details: 'not part of the double' }),
      outbox: (_call, done) => done({ code: grpc.status.UNIMPLEMENTED, details: 'not part of the double' }),
    };
    this.server.addService(FederationServiceService, handlers);
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.client = createGrpcClient(FederationServiceClient, `127.0.0.1:${port}`);
    return new GrpcFederationOutbox(this.client);
  }

  /** The payloads enqueued for `peer`, parsed. */
  payloadsFor(peer: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.peer === peer).map((c) => JSON.parse(c.payloadJson) as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    this.client?.close();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
