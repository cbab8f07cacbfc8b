/**
 * THE catalogue of NATS subjects used by the fleet. Every subject any service publishes or
 * subscribes to is declared here, once, with its payload type (a ts-proto message from
 * @commucat/contracts wrapped in protoCodec). Services import `Subjects` and never spell a
 * subject string themselves.
 *
 * Conventions:
 * - subjects start with `commucat.`; placeholders are whole tokens, e.g.
 *   'commucat.gateway.{gatewayId}.deliver';
 * - the first argument of defineSubject is a short, low-cardinality name ('presence.changed')
 *   used for span names and logs;
 * - subjects that need durability are also covered by a JetStream stream (ensureStream) and
 *   used with publishDurable / consumeDurable.
 *
 * Example entry:
 *   presenceChanged: defineSubject('presence.changed', 'commucat.presence.changed', protoCodec(PresenceChanged)),
 */
import {
  Delivery, DeviceRevoked, InboundFrame, MediaCallEnded, MediaInput, MediaKeyframeRequest, MediaOutput, MediaRefused, MediaReplicaHeartbeat, Notice, PresenceChanged, Reply,
  SecretsKeysChanged,
} from '@commucat/contracts';
import { protoCodec } from './codec';
import { defineSubject, type SubjectDef } from './subject-def';

/** Shape every catalogue entry satisfies. */
export type SubjectCatalogue = Readonly<Record<string, SubjectDef<any, string>>>;

export const Subjects = {
  /** A device went online or offline (presence → anyone interested; at-most-once hints). */
  presenceChanged: defineSubject('presence.changed', 'commucat.presence.changed', protoCodec(PresenceChanged)),
  /** Frames for the devices one gateway holds (router/relay → that gateway). */
  gatewayDelivery: defineSubject('gateway.deliver', 'commucat.gateway.{gatewayId}.deliver', protoCodec(Delivery)),
  /** Acks and Errors for one connection (router → the gateway holding it). */
  gatewayReply: defineSubject('gateway.reply', 'commucat.gateway.{gatewayId}.reply', protoCodec(Reply)),
  /** A device was revoked (directory → every gateway, which closes its connections). */
  deviceRevoked: defineSubject('device.revoked', 'commucat.device.revoked', protoCodec(DeviceRevoked)),
  /** Frames the server sends on its own, e.g. KEY_UPDATE (directory → the router's notice queue). */
  routerNotice: defineSubject('router.notice', 'commucat.router.notice', protoCodec(Notice)),
  /** Every post-handshake frame a device sends (gateways → the router's work queue). */
  routerInbound: defineSubject('router.inbound', 'commucat.router.inbound', protoCodec(InboundFrame)),
  /** Secrets rotated or expired a key (secrets → every gateway, which reloads its catalogue). */
  secretsKeysChanged: defineSubject('secrets.keys_changed', 'commucat.secrets.keys_changed', protoCodec(SecretsKeysChanged)),
  /**
   * VoiceFrame/VideoFrame (gateways → routers, queue group): live media skips the durable inbound
   * queue, because a late media frame is worth nothing and a raw video frame is ~350 KB.
   */
  routerMedia: defineSubject('router.media', 'commucat.router.media', protoCodec(InboundFrame)),
  /** Raw frames of one call for the media replica it hashes to (router → that replica). */
  mediaInput: defineSubject('media.input', 'commucat.media.{replicaId}.in', protoCodec(MediaInput)),
  /** Encoded packets for a call's recipients (media → routers, queue group). */
  mediaOutput: defineSubject('media.output', 'commucat.media.out', protoCodec(MediaOutput)),
  /** A raw frame the media service refused (media → routers, which tell the sender). */
  mediaRefused: defineSubject('media.refused', 'commucat.media.refused', protoCodec(MediaRefused)),
  /** Media replicas announce themselves (media → routers), about every 250 ms. */
  mediaHeartbeat: defineSubject('media.heartbeat', 'commucat.media.heartbeat', protoCodec(MediaReplicaHeartbeat)),
  /** A call ended (router → every media replica): close its encoders. */
  mediaCallEnded: defineSubject('media.call_ended', 'commucat.media.call_ended', protoCodec(MediaCallEnded)),
  /** A call's video needs a keyframe, e.g. a participant joined (router → every media replica). */
  mediaKeyframeRequest: defineSubject('media.keyframe', 'commucat.media.keyframe', protoCodec(MediaKeyframeRequest)),
} as const satisfies SubjectCatalogue;

export type SubjectName = keyof typeof Subjects;
