import type { Logger } from 'pino';
import { CodecError, decodeFrame, FrameType, opaqueFrame, encodeFrame, type Frame } from '@commucat/ccp1';
import { Subjects, type Bus, type BusSubscription } from '@commucat/bus';
import type { InboundFrame, MediaFraming, MediaOutput, MediaRefused } from '@commucat/contracts';
import {
  AUDIO_CODEC_CODES, DEFAULT_CALL_MEDIA_PROFILE, decideMediaProcessing, MediaError, parseCallMediaProfileJson, parseMediaPayload, selectVideoTarget,
  SOURCE_MODE_CODES, VIDEO_CODEC_CODES, type CallMediaProfile, type MediaCodec, type MediaKind, type MediaPayload,
} from '@commucat/media-format';
import type { CallStore, MediaSession } from './call-store.js';
import type { FanOut } from './fan-out.js';
import { planDelivery, receiverProfile } from './media-plan.js';
import type { MediaReplicas } from './media-replicas.js';
import type { MembershipStore } from './membership-store.js';
import { ackReply, errorReply } from './replies.js';

export interface MediaFramesOptions {
  readonly bus: Pick<Bus, 'subscribe' | 'publish'>;
  readonly calls: Pick<CallStore, 'mediaSession'>;
  readonly membership: Pick<MembershipStore, 'recipientsOf'>;
  readonly fanOut: Pick<FanOut, 'deliverLive'>;
  readonly replicas: MediaReplicas;
  readonly logger: Logger;
  /** How long a channel's call lookup is reused (media comes 50 times a second). */
  readonly sessionCacheMs?: number;
}

/** Routers share the media work: each frame (and each encoded packet) goes to one of them. */
const QUEUE = 'router-media';
const ROUTES_MAX_AGE_MS = 1000;
const SESSION_CACHE_MS = 1000;

const kindOf = (type: FrameType): MediaKind => (type === FrameType.VoiceFrame ? 'audio' : 'video');
const frameTypeOf = (kind: string): FrameType => (kind === 'audio' ? FrameType.VoiceFrame : FrameType.VideoFrame);

/** The codec of bare packets from a client without the media header: the call's codec (§4.7). */
function callCodec(kind: MediaKind, profile: CallMediaProfile): MediaCodec {
  if (kind === 'audio') return profile.audio.codec;
  return profile.video ? selectVideoTarget(profile.video) : 'vp8';
}

/** A live call as media frames need it: the stored session plus its parsed profiles. */
interface CallMedia {
  readonly session: MediaSession;
  /** The sender's profile (what it sends), as JSON for the media service and parsed. */
  readonly profileJson: string;
  readonly profile: CallMediaProfile;
  /** The other accepted participants with their parsed profiles (undefined: treat like the sender). */
  readonly receivers: ReadonlyArray<{ deviceId: string; profile: CallMediaProfile | undefined }>;
}

/** The profile the sender's media follows; an offer without `media` means the spec's defaults (§2.3). */
function senderProfileJson(session: MediaSession): string {
  return session.senderMediaJson ?? session.mediaJson ?? JSON.stringify(DEFAULT_CALL_MEDIA_PROFILE);
}

function framingOf(payload: MediaPayload, hasHeader: boolean): MediaFraming {
  const table: readonly MediaCodec[] = payload.kind === 'audio' ? AUDIO_CODEC_CODES : VIDEO_CODEC_CODES;
  return { hasHeader, source: SOURCE_MODE_CODES.indexOf(payload.source), codec: table.indexOf(payload.codec) };
}

/**
 * VoiceFrame/VideoFrame (spec calls-media §4, with §4.5's defects fixed). Media never waits in a
 * queue: frames come from the gateways over NATS core and go out live only. In a live call the
 * sender has accepted, encoded Opus/VP8/VP9 passes through to the other accepted participants;
 * raw PCM/I420 goes to the media replica the call hashes to, and its packets come back through
 * `media.out`. Outside a call, frames pass untouched to the channel's other members (as in the
 * reference). Every frame is acknowledged; a frame that cannot be handled gets an Error
 * `invalid_media` (with the MediaError code as `reason`) and the stream goes on.
 */
export class MediaFrames {
  private readonly subscriptions: BusSubscription[] = [];
  private readonly sessions = new Map<string, { at: number; call: CallMedia }>();

  constructor(private readonly options: MediaFramesOptions) {}

  start(): void {
    const { bus, replicas } = this.options;
    this.subscriptions.push(
      // One at a time: a stream's frames must reach the encoder (and the receivers) in order.
      bus.subscribe(Subjects.routerMedia, {}, (inbound) => this.handle(inbound), { queue: QUEUE }),
      bus.subscribe(Subjects.mediaOutput, {}, (output) => this.encoded(output), { queue: QUEUE }),
      bus.subscribe(Subjects.mediaRefused, {}, (refused) => this.refused(refused), { queue: QUEUE }),
      bus.subscribe(Subjects.mediaHeartbeat, {}, (heartbeat) => replicas.heard(heartbeat)),
    );
  }

  stop(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  /** One media frame from a device; resolves once it is forwarded (or refused) and answered. */
  async handle(inbound: InboundFrame): Promise<void> {
    let frame: Frame;
    try {
      frame = decodeFrame(inbound.frame).frame;
    } catch (err) {
      this.reply(inbound, errorReply(0, 'decode', err instanceof CodecError ? err.code : 'undecodable frame'));
      return;
    }
    try {
      await this.route(inbound, frame);
      this.reply(inbound, ackReply(frame.channel, frame.sequence));
    } catch (err) {
      if (err instanceof MediaError) {
        this.reply(inbound, errorReply(frame.channel, 'invalid_media', err.message, { reason: err.code, in_reply_to: frame.sequence }));
        return;
      }
      this.options.logger.warn({ err, channel: frame.channel, deviceId: inbound.deviceId }, 'media frame dropped');
      this.reply(inbound, errorReply(frame.channel, 'unavailable', 'the media frame was dropped', { in_reply_to: frame.sequence }));
    }
  }

  private async route(inbound: InboundFrame, frame: Frame): Promise<void> {
    const { fanOut } = this.options;
    const body = frame.payload.kind === 'opaque' ? Buffer.from(frame.payload.bytes) : Buffer.alloc(0);
    const call = await this.callMedia(frame.channel, inbound.deviceId);
    const base = { channelId: frame.channel, senderDeviceId: inbound.deviceId, messageId: '', frame: inbound.frame };
    if (!call) {
      const recipients = await this.options.membership.recipientsOf(frame.channel, inbound.deviceId);
      if (!recipients) throw new MediaError('bad_envelope', `device ${inbound.deviceId} is neither in a call nor a member of channel ${frame.channel}`);
      await fanOut.deliverLive(base, recipients, { routesMaxAgeMs: ROUTES_MAX_AGE_MS });
      return;
    }
    const kind = kindOf(frame.type);
    const { session, profile } = call;
    const payload = parseMediaPayload(kind, body, inbound.mediaHeader ? { header: true } : { header: false, codec: callCodec(kind, profile) });
    const decision = decideMediaProcessing(payload, profile);
    if (decision.action === 'drop') throw decision.error;
    if (decision.action === 'transcode') {
      // Raw frames: one stream at the call's profile for every other participant.
      this.sendToMedia(call, inbound, frame.channel, kind, payload.body, { recipients: session.others.map((o) => o.deviceId) });
      return;
    }
    // Already encoded: each receiver's own profile decides whether it takes the stream as it is.
    const plan = kind === 'video'
      ? planDelivery({ kind, source: 'encoded', codec: payload.codec, resolution: profile.video?.max_resolution }, call.receivers)
      : { forward: session.others.map((o) => o.deviceId), transcode: [], undeliverable: [] };
    await fanOut.deliverLive({ ...base, media: framingOf(payload, inbound.mediaHeader) }, plan.forward, { routesMaxAgeMs: ROUTES_MAX_AGE_MS });
    for (const group of plan.transcode) {
      this.sendToMedia(call, inbound, frame.channel, kind, payload.body, {
        recipients: group.recipients, sourceCodec: payload.codec, tag: group.tag,
        width: group.resolution?.width ?? 0, height: group.resolution?.height ?? 0,
      });
    }
    if (plan.undeliverable.length > 0) this.options.logger.debug({ callId: session.callId, undeliverable: plan.undeliverable }, 'media not deliverable to some participants');
  }

  /** Hands a frame to the media replica the call hashes to. */
  private sendToMedia(
    call: CallMedia, inbound: InboundFrame, channelId: number, kind: MediaKind, body: Buffer,
    stream: { recipients: string[]; sourceCodec?: string; tag?: string; width?: number; height?: number },
  ): void {
    if (stream.recipients.length === 0) return;
    const { session } = call;
    const replica = this.options.replicas.pick(session.callId);
    if (!replica) throw new Error('no media replica is alive');
    this.options.bus.publish(Subjects.mediaInput, { replicaId: replica }, {
      callId: session.callId, channelId, senderDeviceId: inbound.deviceId, kind, body,
      profileJson: call.profileJson, recipientDeviceIds: stream.recipients,
      receivedAtUs: Date.now() * 1000, sourceCodec: stream.sourceCodec ?? '', targetWidth: stream.width ?? 0,
      targetHeight: stream.height ?? 0, streamTag: stream.tag ?? '',
    });
  }

  /** An encoded packet from the media service: live to its recipients, bare (gateways add the header where negotiated). */
  private async encoded(output: MediaOutput): Promise<void> {
    const kind = output.kind === 'audio' ? 'audio' : 'video';
    const table: readonly string[] = kind === 'audio' ? AUDIO_CODEC_CODES : VIDEO_CODEC_CODES;
    const frame = encodeFrame(opaqueFrame(frameTypeOf(kind), output.channelId, 0, output.packet));
    await this.options.fanOut.deliverLive({
      channelId: output.channelId, senderDeviceId: output.senderDeviceId, messageId: '', frame,
      media: { hasHeader: false, source: SOURCE_MODE_CODES.indexOf('encoded'), codec: table.indexOf(output.codec) },
    }, output.recipientDeviceIds, { routesMaxAgeMs: ROUTES_MAX_AGE_MS }).catch((err: unknown) => {
      this.options.logger.warn({ err, callId: output.callId }, 'encoded media delivery failed');
    });
  }

  /** The media service refused a raw frame: the sender hears why, live. */
  private async refused(refused: MediaRefused): Promise<void> {
    const frame = errorReply(refused.channelId, 'invalid_media', refused.detail, { reason: refused.code, call_id: refused.callId });
    await this.options.fanOut.deliverLive({ channelId: refused.channelId, senderDeviceId: '', messageId: '', frame }, [refused.senderDeviceId])
      .catch((err: unknown) => this.options.logger.warn({ err, callId: refused.callId }, 'could not tell the sender about a refused media frame'));
  }

  /**
   * The sender's live call with its profiles parsed once per lookup, not per frame (media comes
   * 50 times a second per stream). A profile that does not parse throws MediaError and is not cached.
   */
  private async callMedia(channelId: number, deviceId: string): Promise<CallMedia | undefined> {
    const key = `${channelId}\0${deviceId}`;
    const now = Date.now();
    const cached = this.sessions.get(key);
    if (cached && now - cached.at <= (this.options.sessionCacheMs ?? SESSION_CACHE_MS)) return cached.call;
    const session = await this.options.calls.mediaSession(channelId, deviceId);
    // Only calls are cached: a frame right after an accept must already find its call.
    if (!session) return undefined;
    const profileJson = senderProfileJson(session);
    const call: CallMedia = {
      session,
      profileJson,
      profile: parseCallMediaProfileJson(profileJson),
      receivers: session.others.map((o) => ({ deviceId: o.deviceId, profile: receiverProfile(o.mediaJson) })),
    };
    if (this.sessions.size > 10_000) this.sessions.clear();
    this.sessions.set(key, { at: now, call });
    return call;
  }

  private reply(inbound: InboundFrame, frame: Buffer): void {
    try {
      this.options.bus.publish(Subjects.gatewayReply, { gatewayId: inbound.gatewayId }, { deviceId: inbound.deviceId, connectionId: inbound.connectionId, frame });
    } catch (err) {
      this.options.logger.warn({ err, deviceId: inbound.deviceId }, 'media reply publish failed');
    }
  }
}
