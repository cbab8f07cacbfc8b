import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Frame } from '@commucat/ccp1';
import type { InboundFrame, PresenceServiceClient, PresenceSnapshot } from '@commucat/contracts';
import { callUnary, GrpcStatusError } from '@commucat/service-kit';
import { RouterError } from './errors.js';
import type { FanOut } from './fan-out.js';
import { FLEET_CALL_DEADLINE_MS } from './limits.js';
import type { MembershipStore } from './membership-store.js';
import { parsePresenceState, presenceFrameFor } from './presence-payload.js';
import { messageIdOf } from './message-id.js';

/** Who counts as a friend: directory's mutual friend lists. */
export interface FriendDirectory {
  mutualFriendDevices(userId: string): Promise<string[]>;
}

export interface PresenceFramesOptions {
  readonly presence: PresenceServiceClient;
  readonly membership: MembershipStore;
  readonly friends: FriendDirectory;
  readonly fanOut: FanOut;
  readonly logger: Logger;
  readonly callDeadlineMs?: number;
}

/**
 * A client's Presence frame (spec ccp1-wire §7.8): the state goes to the presence service, then
 * live (never queued) to the devices that share a channel with the sender and to the devices of
 * its user's mutual friends. The reference stores it and broadcasts nothing; pushing it is our
 * addition, in the shape the real client reads.
 * Never an Ack, as in the reference; only a bad payload or state earns an Error.
 */
export class PresenceFrames {
  private readonly deadlineMs: number;

  constructor(private readonly options: PresenceFramesOptions) {
    this.deadlineMs = options.callDeadlineMs ?? FLEET_CALL_DEADLINE_MS;
  }

  /** Resolves to no reply; throws RouterError for the Error reply. */
  async handle(inbound: InboundFrame, frame: Frame): Promise<undefined> {
    const state = parsePresenceState(frame);
    const snapshot = await this.setState(inbound, state);
    if (!snapshot) return undefined;
    try {
      const peers = await this.audience(inbound);
      await this.options.fanOut.deliverLive({
        channelId: 0,
        senderDeviceId: inbound.deviceId,
        messageId: messageIdOf(inbound, frame),
        frame: presenceFrameFor(inbound.deviceId, snapshot),
      }, peers);
    } catch (err) {
      // The state is stored; the push is a best-effort hint, so the sender gets no Error for it.
      this.options.logger.warn({ err, deviceId: inbound.deviceId }, 'presence push failed');
    }
    return undefined;
  }

  /** Co-members and mutual friends' devices, once each, never the sender. */
  private async audience(inbound: InboundFrame): Promise<string[]> {
    const [coMembers, friends] = await Promise.all([
      this.options.membership.coMembersOf(inbound.deviceId),
      this.options.friends.mutualFriendDevices(inbound.userId).catch((err: unknown) => {
        // Channel members still hear about it when the directory is down.
        this.options.logger.warn({ err, userId: inbound.userId }, 'friend lookup failed; presence goes to channel members only');
        return [] as string[];
      }),
    ]);
    const audience = new Set([...coMembers, ...friends]);
    audience.delete(inbound.deviceId);
    return [...audience];
  }

  /** The stored snapshot, or undefined when this connection no longer holds the device's route. */
  private async setState(inbound: InboundFrame, state: string): Promise<PresenceSnapshot | undefined> {
    try {
      return await callUnary(this.options.presence, 'setState', {
        deviceId: inbound.deviceId, connectionId: inbound.connectionId, state,
      }, { deadlineMs: this.deadlineMs, waitForReady: true });
    } catch (err) {
      const code = err instanceof GrpcStatusError ? err.code : undefined;
      if (code === status.INVALID_ARGUMENT) throw new RouterError('invalid', err instanceof Error ? err.message : 'invalid state');
      if (code === status.FAILED_PRECONDITION) {
        // A stale connection (the device reconnected elsewhere, or its route lapsed): its state
        // must not overwrite the current one's, and there is nothing useful to tell it.
        this.options.logger.info({ deviceId: inbound.deviceId, connectionId: inbound.connectionId }, 'presence from a connection without the route ignored');
        return undefined;
      }
      this.options.logger.warn({ err, deviceId: inbound.deviceId }, 'presence setState failed');
      throw new RouterError('unavailable', 'presence is unavailable; send it again');
    }
  }
}
