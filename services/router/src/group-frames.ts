import type { Frame } from '@commucat/ccp1';
import type { InboundFrame } from '@commucat/contracts';
import { RouterError } from './errors.js';
import type { FanOut } from './fan-out.js';
import { objectPayload, parseGroupCreate, parseGroupInvite } from './group-payloads.js';
import { GroupStore } from './group-store.js';
import type { MembershipStore } from './membership-store.js';
import { ackReply } from './replies.js';
import { messageIdOf } from './message-id.js';

export interface GroupFramesOptions {
  readonly membership: MembershipStore;
  readonly fanOut: FanOut;
}

/**
 * GroupCreate, GroupInvite, GroupEvent, KeyUpdate and the group form of Join (spec §7.3,
 * §7.9–§7.12). Relayed frames go out unchanged and durably, exactly like Msg; the Ack is sent only
 * once relay has stored every envelope. Payloads that would make the real client's UI exit
 * (§7.21) are refused with `invalid` before anything is stored or relayed.
 */
export class GroupFrames {
  private readonly groups: GroupStore;

  constructor(private readonly options: GroupFramesOptions) {
    this.groups = new GroupStore(options.membership.pool, options.membership.maxMembers);
  }

  /** GroupCreate (§7.10): group + members stored, merged into the channel, frame sent to the others. */
  async create(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const request = parseGroupCreate(frame, inbound.deviceId);
    const members = await this.groups.create(frame.channel, inbound.deviceId, request);
    await this.relay(inbound, frame, othersThan(members, inbound.deviceId));
    return ackReply(frame.channel, frame.sequence, { group_id: request.groupId });
  }

  /** GroupInvite (§7.11): an owner or admin adds a device to the group and the channel; it gets the frame too. */
  async invite(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const request = parseGroupInvite(frame);
    const members = await this.groups.invite(frame.channel, inbound.deviceId, request);
    await this.relay(inbound, frame, othersThan(members, inbound.deviceId));
    return ackReply(frame.channel, frame.sequence, { device: request.device, group_id: request.groupId });
  }

  /** GroupEvent (§7.12): relayed unchanged to the channel's other members. */
  async event(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const recipients = await this.recipients(inbound, frame);
    objectPayload(frame, 'GroupEvent');
    await this.relay(inbound, frame, recipients);
    return ackReply(frame.channel, frame.sequence);
  }

  /**
   * KeyUpdate (§7.9): relayed unchanged. The 1.0.103 codec has already parsed the payload as JSON;
   * it must also be an object, as every KeyUpdate the fleet sends is (trap T5).
   */
  async keyUpdate(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    objectPayload(frame, 'KeyUpdate');
    const recipients = await this.recipients(inbound, frame);
    await this.relay(inbound, frame, recipients);
    return ackReply(frame.channel, frame.sequence);
  }

  /** Join with `group_id` (§7.3): the group's stored members join the channel; the joiner must be one. */
  async join(inbound: InboundFrame, frame: Frame, groupId: string, relay: boolean): Promise<Buffer> {
    await this.groups.joinChannel(frame.channel, inbound.deviceId, groupId, relay);
    return ackReply(frame.channel, frame.sequence, { group_id: groupId });
  }

  private async recipients(inbound: InboundFrame, frame: Frame): Promise<string[]> {
    const recipients = await this.options.membership.recipientsOf(frame.channel, inbound.deviceId);
    if (!recipients) {
      throw new RouterError('not_member', `device ${inbound.deviceId} is not a member of channel ${frame.channel}; send Join first`);
    }
    return recipients;
  }

  private relay(inbound: InboundFrame, frame: Frame, recipients: readonly string[]): Promise<void> {
    return this.options.fanOut.queueAndDeliver({
      channelId: frame.channel,
      senderDeviceId: inbound.deviceId,
      // Same idempotency key as Msg: a retried frame is queued once.
      messageId: messageIdOf(inbound, frame),
      frame: inbound.frame,
    }, recipients);
  }
}

const othersThan = (members: readonly string[], sender: string): string[] => members.filter((member) => member !== sender);
