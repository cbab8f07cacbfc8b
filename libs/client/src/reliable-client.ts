import { CodecError, controlFrame, encodeFrame, FrameType, MAX_SEQUENCE, opaqueFrame, type Frame, type JsonValue } from '@commucat/ccp1';
import { connectClient, type ClientConnection, type ConnectClientOptions } from './connection';
import { ClientError, ConnectionClosedError } from './errors';
import { FrameInbox } from './frame-inbox';

/** Hello tokens of the fleet's delivery guarantees (see the gateway's connect session). */
export const RELAY_ACK_CAPABILITY = 'relay-ack';
export const IDEMPOTENT_SEND_CAPABILITY = 'idempotent-send';

export interface ReliableClientOptions extends Omit<ConnectClientOptions, 'url'> {
  /** Gateways, tried in turn on every (re)connect. */
  urls: string[];
  /**
   * The first frame sequence (u32). This device must never reuse a sequence within the server's
   * replay window (relay_ttl, a day by default), so an application should persist `nextSequence`
   * with the device's identity and pass it back. Without that, the default comes from the clock
   * (8 per second since 2025), which a restarted client stays above unless it sent more than 8
   * frames a second on average since its last start.
   */
  firstSequence?: number;
  /** A frame still unanswered after this long is sent again on the same connection (default 30 s). */
  resendAfterMs?: number;
  /** Pause before reconnecting; doubles per failed attempt up to 2 s (default 100 ms). */
  reconnectDelayMs?: number;
  /** Relay seqs remembered to drop redelivered frames (default 100,000). */
  seenCapacity?: number;
}

interface Outstanding {
  /** Encoded once; every resend writes the same bytes. */
  readonly bytes: Buffer;
  readonly resolve: (reply: Frame) => void;
  readonly reject: (error: ClientError) => void;
  sentAt: number;
}

/** Error codes after which the same frame may succeed when sent again. */
const RETRYABLE_ERRORS = new Set(['unavailable', 'rate_limited']);
const RESEND_CHECK_MS = 1_000;

/**
 * A client that gets every message across reconnects exactly once. It announces `relay-ack` and
 * `idempotent-send`: every frame it sends keeps its sequence until answered and is sent again
 * after a reconnect (the router recognises a resend), and every queued delivery is acknowledged
 * once handed over, with redeliveries (same relay seq) dropped. Connections that end are
 * reopened, on the next gateway in `urls`, until close().
 */
export class ReliableClient {
  private connection: ClientConnection | undefined;
  private nextSeq: number;
  private readonly outstanding = new Map<number, Outstanding>();
  private readonly inbox = new FrameInbox();
  private readonly seen = new Set<number>();
  private acksToSend: number[] = [];
  private closing = false;
  private everConnected = false;
  private urlIndex = 0;
  private connected: Promise<void>;
  private readonly resendTimer: NodeJS.Timeout;
  /** Connections opened after the first one. */
  reconnects = 0;

  private constructor(private readonly options: ReliableClientOptions) {
    if (options.urls.length === 0) throw new ClientError('Protocol', 'ReliableClient needs at least one gateway url');
    this.nextSeq = options.firstSequence ?? clockSequence();
    this.connected = this.connectLoop();
    this.resendTimer = setInterval(() => this.resendStale(), RESEND_CHECK_MS);
    this.resendTimer.unref();
  }

  /** Connects (retrying until it works) and returns the client. */
  static async open(options: ReliableClientOptions): Promise<ReliableClient> {
    const client = new ReliableClient(options);
    await client.connected;
    return client;
  }

  /** Sends a control frame; resolves with its Ack, rejects with ClientError('Refused') on a final Error. */
  sendControl(type: FrameType, channel: number, value: JsonValue): Promise<Frame> {
    return this.submit(controlFrame(type, channel, this.takeSequence(), value));
  }

  /** Sends an opaque frame (a Msg); resolves with its Ack. */
  sendOpaque(type: FrameType, channel: number, bytes: Uint8Array): Promise<Frame> {
    return this.submit(opaqueFrame(type, channel, this.takeSequence(), bytes));
  }

  /** The next frame from other devices or the server, each queued delivery exactly once. */
  nextFrame(timeoutMs = Infinity): Promise<Frame> {
    return this.inbox.next(timeoutMs);
  }

  /** Frames sent but not answered yet. */
  get unanswered(): number {
    return this.outstanding.size;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.resendTimer);
    this.flushAcks();
    await this.connection?.close();
    this.inbox.close('client closed');
    for (const pending of this.outstanding.values()) pending.reject(new ConnectionClosedError('client closed before an answer arrived'));
    this.outstanding.clear();
  }

  /** The sequence the next frame gets: persist it to continue above it after a restart. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  private takeSequence(): number {
    const seq = this.nextSeq;
    // u32 on the wire; wrapping after years reuses nothing the server still remembers.
    this.nextSeq = seq >= MAX_SEQUENCE ? 1 : seq + 1;
    return seq;
  }

  private submit(frame: Frame): Promise<Frame> {
    if (this.closing) return Promise.reject(new ConnectionClosedError('client is closed'));
    let bytes: Buffer;
    try {
      bytes = encodeFrame(frame);
    } catch (error) {
      const code = error instanceof CodecError ? error.code : 'unencodable';
      return Promise.reject(new ClientError('Protocol', `frame cannot be encoded: ${code}`, { cause: error }));
    }
    return new Promise<Frame>((resolve, reject) => {
      this.outstanding.set(frame.sequence, { bytes, resolve, reject, sentAt: Date.now() });
      this.trySend(bytes);
    });
  }

  /** Writes now if connected; otherwise the reconnect sends it with the rest. */
  private trySend(bytes: Uint8Array): void {
    const connection = this.connection;
    if (!connection || connection.isClosed) return;
    try {
      connection.sendBytes(bytes);
    } catch {
      // The connection is going away; the reconnect resends everything outstanding.
    }
  }

  private async connectLoop(): Promise<void> {
    let delay = this.options.reconnectDelayMs ?? 100;
    while (!this.closing) {
      const url = this.options.urls[this.urlIndex % this.options.urls.length]!;
      this.urlIndex += 1;
      try {
        const connection = await connectClient({
          ...this.options,
          url,
          capabilities: [...new Set([...(this.options.capabilities ?? ['noise', 'zstd']), RELAY_ACK_CAPABILITY, IDEMPOTENT_SEND_CAPABILITY])],
        });
        if (this.closing) {
          await connection.close();
          return;
        }
        this.connection = connection;
        if (this.everConnected) this.reconnects += 1;
        this.everConnected = true;
        // Everything unanswered goes again, oldest first: the router acks what it already has.
        for (const seq of [...this.outstanding.keys()].sort((a, b) => a - b)) {
          const pending = this.outstanding.get(seq)!;
          pending.sentAt = Date.now();
          this.trySend(pending.bytes);
        }
        void this.read(connection);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }

  private async read(connection: ClientConnection): Promise<void> {
    for (;;) {
      let frame: Frame;
      try {
        frame = await connection.nextFrame(Infinity);
      } catch (error) {
        if (error instanceof ConnectionClosedError || connection.isClosed) break;
        continue; // a decode error: the connection carries on (as the real client does)
      }
      this.onFrame(frame);
    }
    if (this.connection === connection) this.connection = undefined;
    if (!this.closing) this.connected = this.connectLoop();
  }

  private onFrame(frame: Frame): void {
    if (frame.type === FrameType.Ack || frame.type === FrameType.Error) {
      if (this.onAnswer(frame)) return;
    } else if (frame.sequence > 0) {
      // A queued delivery: its sequence is the relay seq. Acknowledge it even when seen before
      // (our earlier Ack may have been lost with a connection), hand it over only once.
      this.acknowledgeLater(frame.sequence);
      if (this.seen.has(frame.sequence)) return;
      this.remember(frame.sequence);
    }
    this.inbox.push(frame);
  }

  /** Matches an Ack/Error to the frame it answers; false when it answers nothing of ours. */
  private onAnswer(frame: Frame): boolean {
    const props = frame.payload.kind === 'control' && typeof frame.payload.value === 'object' && frame.payload.value !== null && !Array.isArray(frame.payload.value)
      ? frame.payload.value as Record<string, JsonValue>
      : {};
    const answered = frame.type === FrameType.Ack ? props['ack'] : props['in_reply_to'];
    if (typeof answered !== 'number') return false;
    const pending = this.outstanding.get(answered);
    if (!pending) return true; // a late answer to a resend we already have
    if (frame.type === FrameType.Ack) {
      this.outstanding.delete(answered);
      pending.resolve(frame);
      return true;
    }
    const code = typeof props['error'] === 'string' ? props['error'] : 'unknown';
    if (RETRYABLE_ERRORS.has(code)) {
      pending.sentAt = 0; // the resend check sends it again shortly
      return true;
    }
    this.outstanding.delete(answered);
    pending.reject(new ClientError('Refused', `${code}: ${typeof props['detail'] === 'string' ? props['detail'] : 'refused'}`));
    return true;
  }

  private resendStale(): void {
    const before = Date.now() - (this.options.resendAfterMs ?? 30_000);
    for (const [seq, pending] of [...this.outstanding].sort(([a], [b]) => a - b)) {
      if (pending.sentAt > before && pending.sentAt !== 0) continue;
      if (!this.outstanding.has(seq)) continue;
      pending.sentAt = Date.now();
      this.trySend(pending.bytes);
    }
  }

  private remember(seq: number): void {
    this.seen.add(seq);
    if (this.seen.size > (this.options.seenCapacity ?? 100_000)) this.seen.delete(this.seen.values().next().value as number);
  }

  /** Acknowledges the deliveries of one tick in one Ack frame. */
  private acknowledgeLater(seq: number): void {
    this.acksToSend.push(seq);
    if (this.acksToSend.length === 1) setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    const acks = this.acksToSend;
    if (acks.length === 0) return;
    this.acksToSend = [];
    // Not kept outstanding: an Ack gets no answer, and an unacknowledged delivery simply comes
    // back on the next connect, where it is acknowledged again.
    this.trySend(encodeFrame(controlFrame(FrameType.Ack, 0, this.takeSequence(), { acks })));
  }
}

const SEQUENCE_EPOCH_MS = Date.UTC(2025, 0, 1);
const SEQUENCES_PER_SECOND = 8;

function clockSequence(): number {
  const ticks = Math.floor(((Date.now() - SEQUENCE_EPOCH_MS) / 1000) * SEQUENCES_PER_SECOND);
  return (ticks % MAX_SEQUENCE) + 1;
}
