import type { Logger } from 'pino';
import { CodecError, decodeFrame, FrameType, frameTypeLabel, type Frame, type JsonValue } from '@commucat/ccp1';
import type { InboundFrame } from '@commucat/contracts';
import { RouterError, RouterStopping, isRouterError } from './errors.js';
import type { FanOut } from './fan-out.js';
import type { CallFrames } from './call-frames.js';
import { GroupFrames } from './group-frames.js';
import type { MembershipStore } from './membership-store.js';
import type { PresenceFrames } from './presence-frames.js';
import { parseJoin, typingForRecipients } from './payloads.js';
import { ackReply, errorReply } from './replies.js';
import { messageIdOf } from './message-id.js';
import { localDeviceId, splitMembers } from './federated-members.js';

export interface FrameHandlersOptions {
  readonly membership: MembershipStore;
  readonly fanOut: FanOut;
  readonly presenceFrames: PresenceFrames;
  readonly logger: Logger;
  /** server.domain: members `device@<this domain>` are local devices, other domains are federated. */
  readonly localDomain: string;
  /** Call signalling; without it call frames get Error unsupported. */
  readonly calls?: CallFrames;
}

/** What handling one inbound frame came to. */
export interface HandleOutcome {
  /** The frame type label ('msg', 'join', …), or 'undecodable'. */
  readonly type: string;
  /** 'ok', 'ignored' or the Error code sent back. */
  readonly result: string;
  /** The encoded Ack or Error frame for the sender; none for ignored frames. */
  readonly reply: Buffer | undefined;
}

/** The router's per-frame logic: membership, durable enqueue, live fan-out, and the reply. */
export class FrameHandlers {
  private readonly groupFrames: GroupFrames;

  constructor(private readonly options: FrameHandlersOptions) {
    this.groupFrames = new GroupFrames(options);
  }

  /**
   * Every failure becomes an Error reply (the connection stays open, trap T15). The one thing it
   * throws is RouterStopping: that frame is left for the next router process, unanswered.
   */
  async handle(inbound: InboundFrame): Promise<HandleOutcome> {
    let frame: Frame;
    try {
      frame = decodeFrame(inbound.frame).frame;
    } catch (err) {
      const detail = err instanceof CodecError ? err.code : 'undecodable frame';
      // Channel 0: an undecodable frame has no channel we can trust.
      return { type: 'undecodable', result: 'decode', reply: errorReply(0, 'decode', detail) };
    }
    const type = frameTypeLabel(frame.type);
    try {
      const reply = await this.dispatch(inbound, frame);
      return { type, result: reply ? 'ok' : 'ignored', reply };
    } catch (err) {
      if (err instanceof RouterStopping) throw err;
      if (isRouterError(err)) {
        const extra: Record<string, JsonValue> = err.code === 'not_member' ? { channel: frame.channel } : {};
        return { type, result: err.code, reply: errorReply(frame.channel, err.code, err.detail, { ...extra, in_reply_to: frame.sequence }) };
      }
      this.options.logger.error({ err, type, channel: frame.channel, deviceId: inbound.deviceId }, 'frame handling failed');
      return { type, result: 'unavailable', reply: errorReply(frame.channel, 'unavailable', 'the router could not handle this frame; send it again', { in_reply_to: frame.sequence }) };
    }
  }

  private async dispatch(inbound: InboundFrame, frame: Frame): Promise<Buffer | undefined> {
    switch (frame.type) {
      case FrameType.Join: return this.join(inbound, frame);
      case FrameType.Leave: return this.leave(inbound, frame);
      case FrameType.Msg: return this.msg(inbound, frame);
      case FrameType.Typing: return this.typing(inbound, frame);
      case FrameType.Presence: return this.options.presenceFrames.handle(inbound, frame);
      case FrameType.KeyUpdate: return this.groupFrames.keyUpdate(inbound, frame);
      case FrameType.GroupCreate: return this.groupFrames.create(inbound, frame);
      case FrameType.GroupInvite: return this.groupFrames.invite(inbound, frame);
      case FrameType.GroupEvent: return this.groupFrames.event(inbound, frame);
      case FrameType.CallOffer: return this.callFrames().offer(inbound, frame);
      case FrameType.CallAnswer: return this.callFrames().answer(inbound, frame);
      case FrameType.CallEnd: return this.callFrames().end(inbound, frame);
      case FrameType.CallStats: return this.callFrames().stats(inbound, frame);
      case FrameType.TransportUpdate: return this.callFrames().transportUpdate(inbound, frame);
      // Hello/Auth after the handshake are ignored without a reply (spec §7.19); so are a
      // client's Acks (§7.6), which must not earn an Error the client would then display.
      case FrameType.Hello:
      case FrameType.Auth:
      case FrameType.Ack:
        return undefined;
      default:
        throw new RouterError('unsupported', `${frameTypeLabel(frame.type)} is not routed yet`);
    }
  }

  private callFrames(): CallFrames {
    const calls = this.options.calls;
    if (!calls) throw new RouterError('unsupported', 'this router does not route calls');
    return calls;
  }

  /** Join (spec §7.3), with merge semantics: see MembershipStore.join. */
  private async join(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const request = parseJoin(frame);
    if (request.groupId !== undefined) return this.groupFrames.join(inbound, frame, request.groupId, request.relay);
    const members = request.members.map((member) => localDeviceId(member, this.options.localDomain));
    await this.options.membership.join(frame.channel, [inbound.deviceId, ...members], request.relay);
    return ackReply(frame.channel, frame.sequence);
  }

  /** Leave (spec §7.4): only the leaving device goes; acknowledged even if it was not a member. */
  private async leave(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    await this.options.membership.leave(frame.channel, inbound.deviceId);
    return ackReply(frame.channel, frame.sequence);
  }

  /**
   * Msg (spec §7.5): the frame goes to the other members unchanged; members on other domains get
   * it through the federation outbox. The Ack is sent only after relay (and the outbox) stored
   * every copy, so nothing acknowledged can be lost.
   */
  private async msg(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const acceptedAt = Date.now();
    const { local, remote } = splitMembers(await this.recipients(inbound, frame), this.options.localDomain);
    const outgoing = {
      channelId: frame.channel,
      senderDeviceId: inbound.deviceId,
      // Unique per connection (the client's sequence counts up per connection) and the same
      // when the router handles the frame again, so a retried enqueue stores nothing twice.
      messageId: messageIdOf(inbound, frame),
      frame: inbound.frame,
      timing: { receivedAt: Number(inbound.receivedAt), acceptedAt: acceptedAt },
    };
    await this.options.fanOut.queueAndDeliver(outgoing, local);
    if (remote.length > 0) {
      await this.options.fanOut.forward(outgoing, remote, { sequence: frame.sequence, userHandle: inbound.userHandle, domain: this.options.localDomain });
    }
    return ackReply(frame.channel, frame.sequence);
  }

  /** Typing (spec §7.7): live only to the other local members, never queued nor federated; device id filled in (T16). */
  private async typing(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const recipients = splitMembers(await this.recipients(inbound, frame), this.options.localDomain).local;
    await this.options.fanOut.deliverLive({
      channelId: frame.channel,
      senderDeviceId: inbound.deviceId,
      messageId: messageIdOf(inbound, frame),
      frame: typingForRecipients(frame, inbound.frame, inbound.deviceId),
    }, recipients);
    return ackReply(frame.channel, frame.sequence);
  }

  /**
   * The other members of the frame's channel. The reference closes the connection silently when
   * the sender is not a member (spec §7.1, T15); we answer not_member and keep it open.
   */
  private async recipients(inbound: InboundFrame, frame: Frame): Promise<string[]> {
    const recipients = await this.options.membership.recipientsOf(frame.channel, inbound.deviceId);
    if (!recipients) {
      throw new RouterError('not_member', `device ${inbound.deviceId} is not a member of channel ${frame.channel}; send Join first`);
    }
    return recipients;
  }
}
