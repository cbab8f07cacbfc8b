import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  CodecError, FrameStreamDecoder, FrameStreamError, FrameType, SUPPORTED_PROTOCOL_VERSIONS, controlFrame, decodeFrame, encodeFrame, parseJson,
  stringifyJson, frameTypeLabel, type Frame, type JsonValue,
} from '@commucat/ccp1';
import { NoiseHandshake, bytesToHex, hexToBytes } from '@commucat/crypto';
import { HelloVerdict, type AuthorizeHelloResponse, type MediaFraming } from '@commucat/contracts';
import { MEDIA_HEADER_CAPABILITY } from '@commucat/media-format';
import { context, recordSpanError, SpanStatusCode, startChildSpan, startRootSpan, unsampledContext, type Context, type Span } from '@commucat/telemetry';
import type { Logger } from 'pino';
import { clientAcknowledgedSeqs } from './client-acks.js';
import { DeliveryStream, type DeliveryTiming } from './delivery-stream.js';
import { isMediaFrame } from './media-framing.js';
import { HandshakeError, invalidRequest, keyExpired } from './handshake-error.js';
import { parseHello, type ParsedHello } from './hello.js';
import { noiseKeyJson } from './key-catalog-json.js';
import type { ConnectSink } from './connect-sink.js';
import { FrameBudget } from './frame-budget.js';
import type { GatewayContext } from './gateway-context.js';
import type { ActiveNoiseKey } from './server-keys.js';
import { rfc3339OrNever } from './rfc3339.js';
import { NoiseUnitCodec } from './transport-encryption.js';

/** The capability token that asks for HEAD's Noise transport encryption; the real client never sends it. */
export const NOISE_TRANSPORT_CAPABILITY = 'noise-transport';
/**
 * Frame type 0x14 makes a 1.0.41 decoder drop its whole buffer (trap T4), so only connections
 * that announce this token (or noise-transport, which only 1.0.103-era clients speak) receive it.
 */
export const TRANSPORT_UPDATE_CAPABILITY = 'transport-update';
/**
 * The client acknowledges queued deliveries itself: each carries its relay seq as its sequence,
 * and the device's Ack `{"ack": seq}` (or `{"acks": [seq, …]}`) removes it from the inbox. Until
 * then it is sent again on every connect, so nothing is lost when a gateway dies mid-write.
 */
export const RELAY_ACK_CAPABILITY = 'relay-ack';
/**
 * The client never reuses a frame sequence for its device, across connections, so the router can
 * recognise a frame it resends after a lost Ack and store (and deliver) it only once.
 */
export const IDEMPOTENT_SEND_CAPABILITY = 'idempotent-send';
/**
 * NATS carries at most 1 MiB per message (its default max_payload); a routed frame plus its
 * InboundFrame envelope and headers must fit, so larger frames are refused with `too_large`.
 */
export const MAX_ROUTED_FRAME_BYTES = 1_000_000;


// Input waits in `inbox` while a frame is being handled (e.g. during the directory call); past
// this much, reading pauses so a client cannot pile up memory faster than we process it.
const INBOX_HIGH_WATER = 1 << 20;
const INBOX_LOW_WATER = 1 << 16;

type Stage = 'hello' | 'await_client' | 'established' | 'closed';

interface PendingHandshake {
  hello: ParsedHello;
  noise: NoiseHandshake;
  key: ActiveNoiseKey;
  grant: AuthorizeHelloResponse;
}

/**
 * One `/connect` stream: the Hello → Auth → Auth → Ack handshake (spec ccp1-wire §4), then the
 * established frame stream. Input is processed strictly in order; every failure ends the stream
 * cleanly, with an Error frame where the spec sends one.
 */
export class ConnectSession {
  readonly connectionId = randomUUID();
  private stage: Stage = 'hello';
  private readonly decoder = new FrameStreamDecoder();
  private unitCodec: NoiseUnitCodec | undefined;
  private serverSequence = 1;
  private pending: PendingHandshake | undefined;
  private registeredDevice: string | undefined;
  private inbox: Buffer[] = [];
  private inboxBytes = 0;
  private inputPaused = false;
  private pumping = false;
  private handshakeStartedAt = 0n;
  private deliveries: DeliveryStream | undefined;
  private idempotentSend = false;
  private mediaHeader = false;
  private relayAck = false;
  private deviceId: string | undefined;
  private userId: string | undefined;
  private userHandle = '';
  private budget: FrameBudget | undefined;
  /** When the last rate_limited Error went out: at most one a second, not one per dropped frame. */
  private throttledNoticeAt = 0;
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly logger: Logger;
  /** The handshake's own trace: Hello to Ack (or refusal), whatever frames it takes. */
  private handshakeSpan: { span: Span; ctx: Context } | undefined;

  constructor(private readonly ctx: GatewayContext, private readonly sink: ConnectSink, remote: string) {
    this.logger = ctx.logger.child({ connection_id: this.connectionId, remote });
    this.handshakeTimer = setTimeout(() => this.close('handshake timeout'), ctx.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    ctx.metrics.connections.inc();
  }

  get isClosed(): boolean {
    return this.stage === 'closed';
  }

  /** Feeds request-body bytes; processing happens in order on a single async pump. */
  receive(chunk: Buffer): void {
    if (this.stage === 'closed') return;
    this.inbox.push(chunk);
    this.inboxBytes += chunk.length;
    if (this.inboxBytes > INBOX_HIGH_WATER && !this.inputPaused) {
      this.inputPaused = true;
      this.sink.pauseInput();
    }
    void this.pump();
  }

  /** The client ended its request stream (or it broke): end ours too, and forget the route. */
  remoteEnded(reason: string): void {
    this.close(reason);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inbox.length > 0 && this.stage !== 'closed') {
        const chunk = this.inbox.shift()!;
        this.inboxBytes -= chunk.length;
        if (this.inputPaused && this.inboxBytes < INBOX_LOW_WATER) {
          this.inputPaused = false;
          this.sink.resumeInput();
        }
        await this.consume(chunk);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.pumping = false;
    }
  }

  private async consume(chunk: Buffer): Promise<void> {
    this.feed(chunk);
    // One frame at a time: the frame that completes the handshake may switch the rest of the
    // buffer to encrypted units.
    for (let frame = this.nextFrame(); frame; frame = this.nextFrame()) {
      const wasEncrypted = this.unitCodec !== undefined;
      await this.onFrame(frame);
      if (this.stage === 'closed') return;
      if (!wasEncrypted && this.unitCodec) this.feed(this.decoder.takeBuffered());
    }
  }

  /**
   * The next decoded frame. After the handshake, a complete frame whose body does not decode
   * (e.g. a control payload that is not JSON) is answered with a decode Error and skipped: the
   * reference closes the connection here, but the stream is still in step, and one bad frame
   * should not cost a device its connection (the router keeps connections open the same way).
   */
  private nextFrame(): Frame | undefined {
    for (;;) {
      try {
        return this.decoder.next();
      } catch (err) {
        if (!(this.stage === 'established' && err instanceof FrameStreamError && err.skipped && this.decoder.resume())) throw err;
        this.answerUndecodable(err);
      }
    }
  }

  private answerUndecodable(err: FrameStreamError): void {
    this.ctx.metrics.decodeErrors.inc({ code: err.code });
    this.budget ??= new FrameBudget(this.ctx.frameRate.rate, this.ctx.frameRate.burst);
    if (!this.budget.take()) return; // a flood of bad frames earns no flood of answers
    const { channel, sequence } = err.skipped!;
    const props: Record<string, JsonValue> = { detail: `the frame was skipped: ${err.message}`, error: 'decode' };
    if (sequence !== undefined) props.in_reply_to = sequence;
    this.reply(encodeFrame(controlFrame(FrameType.Error, channel !== undefined && channel <= 0xffffffff ? channel : 0, 0, props)));
  }

  private feed(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (!this.unitCodec) {
      this.decoder.append(bytes);
      return;
    }
    for (const plaintext of this.unitCodec.open(bytes)) this.decoder.append(plaintext);
  }

  private async onFrame(frame: Frame): Promise<void> {
    this.ctx.metrics.framesIn.inc({ stage: this.stage, type: frameTypeName(frame.type) });
    switch (this.stage) {
      case 'hello':
        return context.with(this.handshakeContext(), () => this.onHello(frame));
      case 'await_client':
        return context.with(this.handshakeContext(), () => this.onClientAuth(frame));
      case 'established':
        return this.onEstablishedFrame(frame);
      default:
        return undefined;
    }
  }

  /**
   * The handshake span, started by the Hello as a trace of its own; the directory and presence
   * calls, and the inbox drain the Ack starts, are its children.
   */
  private handshakeContext(): Context {
    this.handshakeSpan ??= startRootSpan('gateway.handshake', {
      'commucat.connection_id': this.connectionId, 'commucat.gateway_id': this.ctx.gatewayId,
    });
    return this.handshakeSpan.ctx;
  }

  /** Ends the handshake span with its result (`ok`, a HandshakeError kind, `abandoned`, …). */
  private endHandshakeSpan(result: string, error?: unknown): void {
    const current = this.handshakeSpan;
    if (current === undefined || !current.span.isRecording()) return;
    current.span.setAttribute('commucat.handshake.result', result);
    if (error !== undefined) recordSpanError(current.span, error);
    else if (result !== 'ok') current.span.setStatus({ code: SpanStatusCode.ERROR, message: result });
    current.span.end();
  }

  private async onHello(frame: Frame): Promise<void> {
    const started = process.hrtime.bigint();
    const verify = startChildSpan('gateway.hello.verify');
    let hello: ParsedHello;
    try {
      // Hello parsing includes the ZKP check that binds client_static to the device key.
      hello = parseHello(frame, this.ctx.domain);
    } catch (err) {
      recordSpanError(verify.span, err);
      throw err;
    } finally {
      verify.span.end();
    }
    this.handshakeSpan?.span.setAttributes({ 'commucat.device_id': hello.deviceId, 'commucat.handshake.pattern': hello.pattern, 'ccp1.protocol_version': hello.protocolVersion });
    if (this.ctx.transportEncryption === 'required' && !hello.capabilities.includes(NOISE_TRANSPORT_CAPABILITY)) {
      throw invalidRequest(`transport encryption is required: Hello capabilities lack ${NOISE_TRANSPORT_CAPABILITY}`);
    }
    const { noise, key } = this.readFirstMessage(hello);
    const grant = await this.authorize(hello);
    if (this.stage === 'closed') return; // the client left while the directory decided
    const payload = {
      domain: this.ctx.domain,
      protocol_version: hello.protocolVersion,
      session: grant.sessionToken,
      user: userJson(grant),
      user_id: grant.user!.userId,
    };
    const msg2 = noise.writeMessage(Buffer.from(stringifyJson(payload), 'utf8'));
    // The session token travels only inside Noise msg2, never in clear properties (weakness §11.4).
    this.sendFrame(controlFrame(FrameType.Auth, hello.channel, this.serverSequence, {
      device_id: hello.deviceId,
      handshake: bytesToHex(msg2),
      protocol_version: hello.protocolVersion,
      server_static: key.key.publicKey.toString('hex'),
      supported_versions: [...SUPPORTED_PROTOCOL_VERSIONS],
    }));
    this.serverSequence += 1;
    this.pending = { hello, noise, key, grant };
    if (hello.pattern === 'IK') {
      // IK is complete after msg2; the reference then waits for a third message that IK does not
      // have, so real IK clients never finished. We acknowledge at once (spec §3.4 recommendation).
      await this.establish(started);
    } else {
      this.stage = 'await_client';
      this.handshakeStartedAt = started;
    }
  }

  /** Spec §3.5: the first active key (newest first) that reads msg1 is the one the client pinned. */
  private readFirstMessage(hello: ParsedHello): { noise: NoiseHandshake; key: ActiveNoiseKey } {
    for (const key of this.ctx.keys.active()) {
      const noise = new NoiseHandshake({
        pattern: hello.pattern, initiator: false, prologue: this.ctx.prologue, staticKey: key.key,
      });
      try {
        noise.readMessage(hello.msg1);
      } catch {
        continue;
      }
      if (hello.pattern === 'IK' && !noise.remoteStatic?.equals(hello.clientStatic)) {
        throw new HandshakeError('crypto', 'IK static key differs from client_static');
      }
      return { noise, key };
    }
    // A client pinned to a key that has since expired gets told to refetch server-info instead of a
    // vague failure. The expired key only identifies the case: the handshake never continues under it.
    for (const key of this.ctx.keys.expired()) {
      const probe = new NoiseHandshake({ pattern: hello.pattern, initiator: false, prologue: this.ctx.prologue, staticKey: key.key });
      try {
        probe.readMessage(hello.msg1);
      } catch {
        continue;
      }
      throw keyExpired(key.version);
    }
    throw invalidRequest('Noise msg1 does not decrypt under any active server key');
  }

  private async authorize(hello: ParsedHello): Promise<AuthorizeHelloResponse> {
    let grant: AuthorizeHelloResponse;
    try {
      grant = await this.ctx.directory.authorizeHello({
        deviceId: hello.deviceId, devicePublic: hello.devicePublic, clientStatic: hello.clientStatic,
        userIdHint: hello.userIdHint, handleHint: hello.handleHint, displayNameHint: hello.displayNameHint,
        avatarUrlHint: hello.avatarUrlHint, certificateJson: hello.certificateJson,
      });
    } catch (err) {
      const code = (err as grpc.ServiceError).code;
      throw new HandshakeError('storage', `directory call failed (${code ?? 'unknown'}): ${(err as Error).message}`);
    }
    switch (grant.verdict) {
      case HelloVerdict.HELLO_VERDICT_AUTHORIZED:
        if (!grant.user) throw new HandshakeError('storage', 'directory authorized without a user');
        return grant;
      case HelloVerdict.HELLO_VERDICT_PAIRING_REQUIRED:
        throw new HandshakeError('pairing', grant.reason);
      case HelloVerdict.HELLO_VERDICT_CRYPTO_FAILURE:
        throw new HandshakeError('crypto', grant.reason);
      default:
        throw invalidRequest(grant.reason || 'directory refused the Hello');
    }
  }

  private async onClientAuth(frame: Frame): Promise<void> {
    const pending = this.pending!;
    if (frame.type !== FrameType.Auth || frame.payload.kind !== 'control') throw invalidRequest('expected the client Auth frame');
    const props = frame.payload.value;
    const hex = typeof props === 'object' && props !== null && !Array.isArray(props) && typeof props !== 'bigint' ? props.handshake : undefined;
    if (typeof hex !== 'string') throw invalidRequest('client Auth has no handshake string');
    let msg3: Buffer;
    try {
      msg3 = hexToBytes(hex);
    } catch {
      throw invalidRequest('client Auth handshake is not hex');
    }
    try {
      pending.noise.readMessage(msg3);
    } catch {
      throw new HandshakeError('crypto', 'Noise msg3 does not decrypt');
    }
    // The reference never compared these (trap T19); the ZKP bound client_static to the device key.
    if (!pending.noise.remoteStatic?.equals(pending.hello.clientStatic)) {
      throw new HandshakeError('crypto', 'msg3 static key differs from Hello client_static');
    }
    await this.establish(this.handshakeStartedAt);
  }

  private async establish(startedAt: bigint): Promise<void> {
    const { hello, noise, key, grant } = this.pending!;
    const encrypt = this.ctx.transportEncryption !== 'optional' || hello.capabilities.includes(NOISE_TRANSPORT_CAPABILITY);
    try {
      await this.ctx.routes.register(this.connectionId, hello.deviceId, grant.user!);
    } catch (err) {
      throw new HandshakeError('storage', `presence registration failed: ${(err as Error).message}`);
    }
    if (this.stage === 'closed') {
      // The client left while presence registered it: take the route back out.
      this.ctx.routes.unregister(this.connectionId, hello.deviceId);
      return;
    }
    this.registeredDevice = hello.deviceId;
    clearTimeout(this.handshakeTimer);

    const ack: Record<string, JsonValue> = {
      certificate: { expires_at: grant.certificate!.expiresAt, issued_at: grant.certificate!.issuedAt, serial: BigInt(grant.certificate!.serial) },
      device_ca_public: Buffer.from(grant.deviceCaPublic).toString('hex'),
      device_certificate: parseJson(grant.certificateJson),
      handshake: 'ok',
      keepalive_interval: this.ctx.keepaliveIntervalSeconds,
      noise_key_version: key.version,
      noise_keys: this.ctx.keys.active().map(noiseKeyJson),
      noise_public: key.key.publicKey.toString('hex'),
      pairing_required: grant.pairingRequired,
      user: userJson(grant),
      user_id: grant.user!.userId,
    };
    const rotatesAt = rfc3339OrNever(key.rotatesAt);
    const expiresAt = rfc3339OrNever(key.expiresAt);
    if (rotatesAt) ack.noise_rotates_at = rotatesAt;
    if (expiresAt) ack.noise_expires_at = expiresAt;
    if (encrypt) ack.transport_encryption = 'noise';
    // The Ack itself is always plaintext (HEAD does the same); encryption starts after it.
    this.sendFrame(controlFrame(FrameType.Ack, 0, this.serverSequence, ack));
    this.serverSequence += 1;
    if (encrypt) this.unitCodec = new NoiseUnitCodec(noise.split());
    this.stage = 'established';
    this.sink.established();
    this.deviceId = hello.deviceId;
    this.userId = grant.user!.userId;
    this.userHandle = grant.user!.handle;
    this.idempotentSend = hello.capabilities.includes(IDEMPOTENT_SEND_CAPABILITY);
    this.relayAck = hello.capabilities.includes(RELAY_ACK_CAPABILITY);
    this.mediaHeader = hello.capabilities.includes(MEDIA_HEADER_CAPABILITY);
    this.deliveries = new DeliveryStream({
      deviceId: hello.deviceId,
      inbox: this.ctx.inbox,
      relayAck: this.relayAck,
      acceptsTransportUpdate: hello.capabilities.includes(TRANSPORT_UPDATE_CAPABILITY) || hello.capabilities.includes(NOISE_TRANSPORT_CAPABILITY),
      mediaHeader: this.mediaHeader,
      write: (frame) => this.sendFrame(frame),
      onLiveWritten: (timing) => this.observeDeliveryLatency(timing),
      isOpen: () => this.stage === 'established',
      logger: this.logger,
    });
    this.ctx.sessions.add(hello.deviceId, this);
    void this.deliveries.start();
    this.pending = undefined;
    this.ctx.metrics.handshakes.inc({ pattern: hello.pattern, result: 'ok', transport: encrypt ? 'noise' : 'plain' });
    this.handshakeSpan?.span.setAttributes({
      'commucat.user_id': grant.user!.userId, 'commucat.handshake.transport': encrypt ? 'noise' : 'plain',
      'commucat.noise.key_version': key.version, 'commucat.handshake.user_created': grant.userCreated,
    });
    this.ctx.metrics.handshakeSeconds.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
    this.logger.info({ device_id: hello.deviceId, user_id: grant.user!.userId, pattern: hello.pattern, key_version: key.version, transport: encrypt ? 'noise' : 'plain', user_created: grant.userCreated, certificate_issued: grant.certificateIssued }, 'handshake complete');
    this.endHandshakeSpan('ok');
  }

  /**
   * A frame for this device from elsewhere (another device, a notice); see DeliveryStream. Runs in
   * the delivery's trace (the bus consumer span), under a span of its own for the write.
   */
  deliver(frame: Buffer, relaySeq: number, media?: MediaFraming, timing?: DeliveryTiming): void {
    if (!this.deliveries) return;
    const { span, ctx } = startChildSpan('gateway.write_delivery', {
      'commucat.device_id': this.deviceId ?? '', 'commucat.connection_id': this.connectionId, 'commucat.relay_seq': relaySeq,
    });
    try {
      const outcome = context.with(ctx, () => this.deliveries!.deliver(frame, relaySeq, media, timing));
      span.setAttribute('commucat.delivery.outcome', outcome);
    } finally {
      span.end();
    }
  }

  private observeDeliveryLatency(timing: DeliveryTiming): void {
    const now = Date.now();
    if (timing.acceptedAt > 0) this.ctx.metrics.deliveryLatency.observe({ from: 'router_accept' }, Math.max(0, now - timing.acceptedAt) / 1000);
    if (timing.receivedAt > 0) this.ctx.metrics.deliveryLatency.observe({ from: 'sender_receive' }, Math.max(0, now - timing.receivedAt) / 1000);
  }

  private async onEstablishedFrame(frame: Frame): Promise<void> {
    // Hello/Auth after the handshake are ignored, as in the reference (§7.19).
    if (frame.type === FrameType.Hello || frame.type === FrameType.Auth) return;
    if (isMediaFrame(frame.type)) {
      // 50 frames a second per stream: no spans for media, here or downstream (the unsampled
      // context travels with the frame). Call signalling frames are traced like messages.
      context.with(unsampledContext(), () => this.routeFrame(frame));
      return;
    }
    // Every other frame from a device starts its own trace: gateway → router → relay → gateway.
    const { span, ctx } = startRootSpan(`gateway.receive ${frameTypeName(frame.type)}`, {
      'ccp1.frame.type': frameTypeName(frame.type), 'ccp1.channel': frame.channel, 'ccp1.sequence': frame.sequence,
      'commucat.device_id': this.deviceId!, 'commucat.connection_id': this.connectionId, 'commucat.gateway_id': this.ctx.gatewayId,
    });
    let stored: Promise<void> | undefined;
    try {
      stored = context.with(ctx, () => this.routeFrame(frame, span));
    } finally {
      if (stored === undefined) span.end();
    }
    // The span lasts until the router queue stored the frame; the next frame does not wait for it.
    void stored?.finally(() => span.end());
  }

  /** Hands one established frame on (router queue, media, or the device's own Acks); `span` gets the outcome. */
  private routeFrame(frame: Frame, span?: Span): Promise<void> | undefined {
    this.budget ??= new FrameBudget(this.ctx.frameRate.rate, this.ctx.frameRate.burst);
    if (!this.budget.take()) {
      span?.setAttribute('commucat.frame.outcome', 'throttled');
      this.throttle(frame);
      return undefined;
    }
    if (frame.type === FrameType.Ack) {
      span?.setAttribute('commucat.frame.outcome', 'acknowledged');
      // A device's Acks stay here: they acknowledge deliveries (relay-ack) and are otherwise
      // ignored, as the reference ignores them (§7.6).
      if (this.relayAck) this.deliveries!.acknowledgeFromDevice(clientAcknowledgedSeqs(frame));
      return;
    }
    const encoded = encodeFrame(frame);
    span?.setAttribute('messaging.message.body.size', encoded.length);
    if (encoded.length > MAX_ROUTED_FRAME_BYTES) {
      span?.setAttribute('commucat.frame.outcome', 'too_large');
      this.ctx.metrics.framesRefused.inc({ reason: 'too_large' });
      this.reply(encodeFrame(controlFrame(FrameType.Error, frame.channel, 0, {
        detail: `frames routed to other devices are limited to ${MAX_ROUTED_FRAME_BYTES} bytes; this one has ${encoded.length}`,
        error: 'too_large', in_reply_to: frame.sequence,
      })));
      return;
    }
    this.ctx.metrics.framesRouted.inc({ type: frameTypeName(frame.type) });
    const inbound = {
      deviceId: this.deviceId!, userId: this.userId!, userHandle: this.userHandle, gatewayId: this.ctx.gatewayId, connectionId: this.connectionId,
      frame: encoded, receivedAt: Date.now(), idempotentSend: this.idempotentSend, mediaHeader: this.mediaHeader,
    };
    if (isMediaFrame(frame.type)) {
      // Live media skips the durable queue: a late frame is worth nothing (NATS core, at most once).
      try {
        this.ctx.media.publish(inbound);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'media frame dropped: bus unavailable');
      }
      return;
    }
    // Stored in the router's JetStream work queue; the router answers once it has handled it.
    // If the store fails, the sender hears so and may resend (nothing was accepted). The frame's
    // span lasts until the store answers; the next frame does not wait for it.
    return this.ctx.router.publish(inbound).then(() => {
      span?.setAttribute('commucat.frame.outcome', 'queued');
    }, (err: unknown) => {
      span?.setAttribute('commucat.frame.outcome', 'unavailable');
      if (span) recordSpanError(span, err);
      this.logger.warn({ err: (err as Error).message }, 'router queue unavailable');
      this.reply(encodeFrame(controlFrame(FrameType.Error, frame.channel, 0, {
        detail: 'the frame could not be queued for routing; send it again', error: 'unavailable', in_reply_to: frame.sequence,
      })));
    });
  }

  /** Drops a frame over the budget; the sender hears why (stable code), the stream stays open. */
  private throttle(frame: Frame): void {
    this.ctx.metrics.framesThrottled.inc();
    const now = Date.now();
    if (now - this.throttledNoticeAt < 1000) return;
    this.throttledNoticeAt = now;
    this.reply(encodeFrame(controlFrame(FrameType.Error, frame.channel, 0, {
      detail: `more than ${this.ctx.frameRate.rate} frames per second; frames are being dropped`, error: 'rate_limited',
    })));
  }

  /** An Ack or Error from the router for a frame this connection sent: the reply counter numbers it. */
  reply(bytes: Buffer): void {
    if (this.stage !== 'established') return;
    let frame: Frame;
    try {
      frame = decodeFrame(bytes).frame;
    } catch (err) {
      this.logger.warn({ code: (err as CodecError).code }, 'dropping an undecodable reply');
      return;
    }
    this.sendFrame({ ...frame, sequence: this.serverSequence });
    this.serverSequence = this.serverSequence >= 0xffffffff ? 1 : this.serverSequence + 1;
  }

  /** Writes one frame in the stream's current wire format. */
  private sendFrame(frame: Frame): void {
    if (this.stage === 'closed') return;
    const encoded = encodeFrame(frame);
    this.sink.writeUnit(this.unitCodec ? this.unitCodec.seal(encoded) : encoded, frame);
    this.ctx.metrics.framesOut.inc({ type: frameTypeName(frame.type) });
  }

  private fail(err: unknown): void {
    if (this.stage === 'closed') return;
    // A failed handshake logs (and answers) inside its own trace, so the refusal joins its spans.
    const handshake = this.stage !== 'established' ? this.handshakeSpan : undefined;
    if (handshake) {
      context.with(handshake.ctx, () => this.failNow(err));
      return;
    }
    this.failNow(err);
  }

  private failNow(err: unknown): void {
    if (err instanceof HandshakeError) {
      this.ctx.metrics.handshakes.inc({ pattern: this.pending?.hello.pattern ?? 'unknown', result: err.kind, transport: 'none' });
      this.endHandshakeSpan(err.kind, err);
      this.logger.info({ kind: err.kind, reason: err.reason }, 'handshake refused');
      this.sendFrame(controlFrame(FrameType.Error, 0, this.serverSequence, err.toErrorPayload()));
      this.close(`handshake refused: ${err.kind}`);
    } else if (err instanceof CodecError) {
      this.ctx.metrics.decodeErrors.inc({ code: err.code });
      this.endHandshakeSpan('decode', err);
      this.logger.info({ code: err.code, stage: this.stage }, 'undecodable input');
      // After the handshake with encryption on, HEAD closes without a frame on decrypt failures;
      // codec errors still get the plaintext-shaped notice through the current wire format.
      this.sendFrame(controlFrame(FrameType.Error, 0, this.serverSequence, { error: 'decode' }));
      this.close(`decode error: ${err.code}`);
    } else if (this.stage === 'established' && this.unitCodec) {
      this.logger.info({ err: (err as Error).message }, 'transport decryption failed');
      this.close('transport decryption failed');
    } else {
      this.endHandshakeSpan('internal', err);
      this.logger.error({ err }, 'connect session failed');
      this.close('internal error');
    }
  }

  close(reason: string): void {
    if (this.stage === 'closed') return;
    const wasEstablished = this.stage === 'established';
    this.stage = 'closed';
    // A client that leaves (or times out) mid-handshake: its span still ends, with the reason.
    if (!wasEstablished) this.endHandshakeSpan('abandoned');
    clearTimeout(this.handshakeTimer);
    this.inbox = [];
    this.inboxBytes = 0;
    this.sink.end();
    if (this.registeredDevice) {
      this.ctx.sessions.remove(this.registeredDevice, this);
      this.ctx.routes.unregister(this.connectionId, this.registeredDevice);
      this.registeredDevice = undefined;
    }
    this.ctx.metrics.connections.dec();
    this.logger.debug({ reason, established: wasEstablished }, 'connect stream closed');
  }
}

/** Low-cardinality frame type label ('msg', 'join', …) for metrics and span names. */
export function frameTypeName(type: FrameType): string {
  try {
    return frameTypeLabel(type);
  } catch {
    return 'unknown';
  }
}

function userJson(grant: AuthorizeHelloResponse): Record<string, JsonValue> {
  const u = grant.user!;
  return { avatar_url: u.avatarUrl ?? null, display_name: u.displayName ?? null, handle: u.handle, id: u.userId, user_id: u.userId };
}
