import * as grpc from '@grpc/grpc-js';
import { CodecError, decodeFrame, type JsonValue } from '@commucat/ccp1';
import type { DirectoryServiceClient, Notice } from '@commucat/contracts';
import { callUnary, GrpcStatusError } from '@commucat/service-kit';
import { FederationError } from './errors.js';
import type { InboundDelivery } from './inbound.js';
import type { FederationPeer } from './peers.js';
import type { SignedEvent } from './signed-event.js';

/** Where verified frames go: the router's durable notice queue. */
export interface NoticeSink {
  publish(notice: Notice): Promise<void>;
}

export interface FleetDeliveryOptions {
  readonly directory: DirectoryServiceClient;
  readonly notices: NoticeSink;
  /** server.domain: a relay target `device@<this domain>` is local. */
  readonly localDomain: string;
  readonly deadlineMs?: number;
}

type JsonObject = { [key: string]: JsonValue };
const isObject = (value: JsonValue | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function stringField(payload: JsonObject, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value.trim() === '') throw new FederationError('invalid_payload', `payload.${name} must be a non-empty string`);
  return value.trim();
}

/** `handle@domain` must name a user of the sending domain: a peer speaks only for its own users. */
function ownUser(id: string, origin: string, field: string): string {
  const at = id.lastIndexOf('@');
  if (at <= 0 || id.slice(at + 1).toLowerCase() !== origin.toLowerCase()) {
    throw new FederationError('not_permitted', `payload.${field} must be a user of ${origin}`);
  }
  return `${id.slice(0, at)}@${origin.toLowerCase()}`;
}

/** Directory refusals are final answers about the event; anything else (directory down) is retried by the peer. */
function directoryRefusal(err: unknown): never {
  if (GrpcStatusError.is(err)) {
    if (err.code === grpc.status.NOT_FOUND) throw new FederationError('unknown_target', err.message);
    if (err.code === grpc.status.PERMISSION_DENIED) throw new FederationError('not_permitted', err.message);
    if (err.code === grpc.status.INVALID_ARGUMENT) throw new FederationError('invalid_payload', err.message);
  }
  throw err;
}

/**
 * Delivers a verified inbound event to this fleet. Relay events (spec §5.3: `{payload: hex frame,
 * target: device[@domain], channel, sender, sequence}` plus our `sender_user`) go to the router's
 * durable notice queue, and only when the target device's user lists the sender as a friend
 * (§11.13: a peer cannot push frames to any device). Friend requests and answers go to the
 * directory. Resolves once the effect is durable, so the processed-id record may commit.
 */
export class FleetDelivery implements InboundDelivery {
  constructor(private readonly options: FleetDeliveryOptions) {}

  async deliver(signed: SignedEvent, peer: FederationPeer): Promise<void> {
    const payload = signed.event.payload;
    if (!isObject(payload)) throw new FederationError('invalid_payload', 'payload must be an object');
    const origin = peer.domain.toLowerCase();
    switch (payload.type) {
      case 'friend_request': return this.friendRequest(payload, origin);
      case 'friend_answer': return this.friendAnswer(payload, origin);
      case undefined: return this.relay(signed.event.event_id, payload, origin);
      default: throw new FederationError('invalid_payload', `unknown event type ${JSON.stringify(payload.type)}`);
    }
  }

  private async relay(eventId: string, payload: JsonObject, origin: string): Promise<void> {
    const target = stringField(payload, 'target');
    // Relay targets split at the FIRST `@` (§5.1).
    const at = target.indexOf('@');
    const deviceId = at < 0 ? target : target.slice(0, at);
    if (deviceId === '' || (at >= 0 && target.slice(at + 1).toLowerCase() !== this.options.localDomain.toLowerCase())) {
      throw new FederationError('invalid_target', `target ${target} is not a device of ${this.options.localDomain}`);
    }
    const hex = stringField(payload, 'payload');
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new FederationError('invalid_payload', 'payload.payload must be hex');
    const frame = Buffer.from(hex, 'hex');
    let channel: number;
    try {
      channel = decodeFrame(frame).frame.channel;
    } catch (err) {
      throw new FederationError('invalid_payload', `payload.payload is not a CCP-1 frame${err instanceof CodecError ? ` (${err.code})` : ''}`);
    }
    if (typeof payload.sender_user !== 'string') throw new FederationError('not_permitted', 'payload.sender_user is required: frames are accepted from friends only');
    const senderUser = ownUser(payload.sender_user, origin, 'sender_user');
    await this.directory('authorizeFederatedDelivery', { origin, targetDeviceId: deviceId, senderUser });
    // The relay idempotency key: the same event handled twice is stored once per device.
    await this.options.notices.publish({ deviceIds: [deviceId], frame, messageId: `fed:${origin}:${eventId}`, channelId: channel, queue: true });
  }

  private async friendRequest(payload: JsonObject, origin: string): Promise<void> {
    const message = payload.message;
    if (message !== undefined && message !== null && typeof message !== 'string') throw new FederationError('invalid_payload', 'payload.message must be a string or null');
    await this.directory('receiveFederatedFriendRequest', {
      origin,
      requestId: stringField(payload, 'request_id'),
      from: ownUser(stringField(payload, 'from'), origin, 'from'),
      to: stringField(payload, 'to'),
      ...(typeof message === 'string' ? { message } : {}),
    });
  }

  private async friendAnswer(payload: JsonObject, origin: string): Promise<void> {
    const status = stringField(payload, 'status');
    if (status !== 'accepted' && status !== 'rejected') throw new FederationError('invalid_payload', 'payload.status must be accepted or rejected');
    await this.directory('receiveFederatedFriendAnswer', {
      origin,
      requestId: stringField(payload, 'request_id'),
      from: ownUser(stringField(payload, 'from'), origin, 'from'),
      status,
    });
  }

  private async directory<M extends 'authorizeFederatedDelivery' | 'receiveFederatedFriendRequest' | 'receiveFederatedFriendAnswer'>(
    method: M, request: Parameters<DirectoryServiceClient[M]>[0],
  ): Promise<void> {
    try {
      await callUnary(this.options.directory, method, request as never, { deadlineMs: this.options.deadlineMs ?? 5000, waitForReady: true });
    } catch (err) {
      directoryRefusal(err);
    }
  }
}
