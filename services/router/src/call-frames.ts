import { stringifyJson, type Frame, type JsonValue } from '@commucat/ccp1';
import type { InboundFrame } from '@commucat/contracts';
import type { Counter } from 'prom-client';
import { parseCallAnswer, parseCallEnd, parseCallOffer, parseCallStats, parseTransportUpdate } from './call-payloads.js';
import type { CallSignals } from './call-signals.js';
import type { CallStore } from './call-store.js';
import { RouterError } from './errors.js';
import { splitMembers } from './federated-members.js';
import type { MembershipStore } from './membership-store.js';
import { messageIdOf } from './message-id.js';
import { ackReply } from './replies.js';

export interface CallFramesOptions {
  readonly store: CallStore;
  readonly membership: MembershipStore;
  readonly signals: CallSignals;
  /** server.domain: members on other domains are not called (calls do not cross federation). */
  readonly localDomain: string;
  /** calls.ring_timeout_seconds */
  readonly ringTimeoutSeconds: number;
  /** calls.max_participants: devices in one call, the offerer included. */
  readonly maxParticipants: number;
  /** commucat_calls_total */
  readonly callsTotal?: Pick<Counter, 'inc'>;
}

const controlOf = (frame: Frame): JsonValue => (frame.payload.kind === 'control' ? frame.payload.value : null);

/**
 * The five call signalling frames (spec calls-media §3.3): decode, change the call in Postgres,
 * forward the frame as the sender wrote it to the other participants, then Ack the sender.
 * Deviations from the reference, which closes the connection on every failure (§3.7) and ends
 * the call for everyone on any rejection (§3.3):
 * - failures are Error frames (unknown_call, not_participant, call_exists, call_full, invalid,
 *   not_member) and the connection stays open;
 * - a rejection or hang-up takes only that device out; the call ends for everyone when fewer
 *   than two participants remain or none of them has accepted (CallStore's leave rule);
 * - calls ring at most calls.ring_timeout_seconds (CallSweeper) and have at most
 *   calls.max_participants devices;
 * - the offerer cannot answer its own call (Error invalid);
 * - a CallEnd for a call that already ended (both sides hung up at once) is acknowledged and
 *   not forwarded; one for a call that never existed is unknown_call.
 */
export class CallFrames {
  constructor(private readonly options: CallFramesOptions) {}

  /** CallOffer: participants are the channel's local members when the offer arrives. */
  async offer(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const { store, membership, signals, maxParticipants } = this.options;
    const offer = parseCallOffer(frame);
    const members = await membership.members(frame.channel);
    if (!members.includes(inbound.deviceId)) {
      throw new RouterError('not_member', `device ${inbound.deviceId} is not a member of channel ${frame.channel}; send Join first`);
    }
    const invitees = splitMembers(members.filter((member) => member !== inbound.deviceId), this.options.localDomain).local;
    if (invitees.length === 0) throw new RouterError('invalid', `channel ${frame.channel} has no other member on this server to call`);
    if (invitees.length + 1 > maxParticipants) {
      throw new RouterError('call_full', `a call has at most ${maxParticipants} participants; channel ${frame.channel} has ${invitees.length + 1} members`);
    }
    const call = await store.create({
      callId: offer.callId, channelId: frame.channel, initiator: inbound.deviceId, connectionId: inbound.connectionId, invitees,
      ringTimeoutSeconds: this.options.ringTimeoutSeconds,
      mediaJson: offer.media && stringifyJson(offer.media), transportJson: offer.transport && stringifyJson(offer.transport),
    });
    this.options.callsTotal?.inc();
    await signals.send(call, this.forwarded(inbound, frame), invitees);
    return ackReply(frame.channel, frame.sequence, { call_id: offer.callId });
  }

  /** CallAnswer: accept joins the call; reject leaves it (and may end it, see the class comment). */
  async answer(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const answer = parseCallAnswer(frame);
    const change = await this.options.store.answer(answer.callId, inbound.deviceId, {
      accept: answer.accept, reason: answer.reason, connectionId: inbound.connectionId,
      mediaJson: answer.media && stringifyJson(answer.media), transportJson: answer.transport && stringifyJson(answer.transport),
    });
    await this.options.signals.send(change.call, this.forwarded(inbound, frame), change.others);
    if (answer.accept) this.options.signals.joined(change.call.callId);
    if (change.ended) {
      // The rejection left nobody to talk to: the others hear that the call is over, not only the answer.
      await this.options.signals.sendEnd(change.call, { reason: 'hangup', cause: 'rejected', device: inbound.deviceId, callEnded: true, event: 'end' }, change.others);
    }
    const extra: Record<string, JsonValue> = { call_id: answer.callId, accept: answer.accept };
    if (answer.reason !== undefined) extra.reason = answer.reason;
    return ackReply(frame.channel, frame.sequence, extra);
  }

  /** CallEnd: the sender hangs up; forwarded as written to the participants still in the call. */
  async end(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const end = parseCallEnd(frame);
    const change = await this.options.store.end(end.callId, inbound.deviceId, end.reason);
    if (change) await this.options.signals.send(change.call, this.forwarded(inbound, frame), change.others);
    if (change?.ended) this.options.signals.callEnded(change.call.callId);
    return ackReply(frame.channel, frame.sequence, { call_id: end.callId, reason: end.reason });
  }

  /** CallStats: the latest per device and direction is stored; forwarded live only. */
  async stats(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const stats = parseCallStats(frame);
    const change = await this.options.store.report(stats.callId, inbound.deviceId, `stats:${stats.direction}`, stringifyJson(controlOf(frame)));
    await this.options.signals.send(change.call, this.forwarded(inbound, frame), change.others, true);
    return ackReply(frame.channel, frame.sequence, { call_id: stats.callId, direction: stats.direction });
  }

  /**
   * TransportUpdate: the latest per device is stored; consent_keepalive's interval patches the
   * call's transport. The gateway passes 0x14 only to connections that announced the
   * `transport-update` capability (a 1.0.41 decoder drops its whole buffer on it).
   */
  async transportUpdate(inbound: InboundFrame, frame: Frame): Promise<Buffer> {
    const update = parseTransportUpdate(frame);
    const interval = update.update === 'consent_keepalive' ? update.intervalSecs : undefined;
    const change = await this.options.store.report(update.callId, inbound.deviceId, 'transport', stringifyJson(controlOf(frame)), interval);
    await this.options.signals.send(change.call, this.forwarded(inbound, frame), change.others);
    return ackReply(frame.channel, frame.sequence, { call_id: update.callId, update: update.update });
  }

  private forwarded(inbound: InboundFrame, frame: Frame) {
    return { senderDeviceId: inbound.deviceId, messageId: messageIdOf(inbound, frame), frame: inbound.frame };
  }
}
