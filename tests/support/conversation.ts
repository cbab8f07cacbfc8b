import { FrameType, controlFrame, opaqueFrame, type Frame, type JsonValue } from '@commucat/ccp1';
import type { ClientConnection, DeviceIdentity } from '@commucat/client';
import type { TestFleet } from './fleet';
import { connectTo, newIdentity } from './fleet-client';

/** What a Peer needs from a connection: a ClientConnection has it, and so can a test's own mode driver. */
export interface FrameLink {
  send(frame: Frame): void;
  /** The connection's next outgoing sequence number (one counter for all channels, spec §4.9). */
  nextSequence(): number;
  nextFrame(timeoutMs?: number): Promise<Frame>;
  close?(): Promise<void>;
}

export const control = (f: Frame): Record<string, JsonValue> =>
  f.payload.kind === 'control' ? (f.payload.value as Record<string, JsonValue>) : {};

export const text = (f: Frame): string => (f.payload.kind === 'opaque' ? Buffer.from(f.payload.bytes).toString() : '');

const DEFAULT_WAIT_MS = 10_000;

const describeFrame = (f: Frame): string =>
  `${FrameType[f.type] ?? f.type}@${f.channel} ${f.payload.kind === 'control' ? JSON.stringify(f.payload.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : JSON.stringify(text(f).slice(0, 60))}`;

/**
 * One device in a conversation. Frames it receives are read strictly in order: `next()` is the very
 * next frame, and the `*Matching` readers keep the frames they skip for later `next()` calls. So a
 * test can prove a device got nothing unexpected: a later marker must be its next frame.
 */
export class Peer {
  private readonly held: Frame[] = [];

  constructor(readonly link: FrameLink, readonly identity: DeviceIdentity) {}

  get deviceId(): string {
    return this.identity.deviceId;
  }

  sendControl(type: FrameType, channel: number, value: JsonValue): number {
    const sequence = this.link.nextSequence();
    this.link.send(controlFrame(type, channel, sequence, value));
    return sequence;
  }

  /** Opaque bytes under any type: for a control type this is how a payload that is not JSON is sent. */
  sendBytesAs(type: FrameType, channel: number, bytes: Uint8Array): number {
    const sequence = this.link.nextSequence();
    this.link.send(opaqueFrame(type, channel, sequence, bytes));
    return sequence;
  }

  sendText(channel: number, message: string): number {
    return this.sendBytesAs(FrameType.Msg, channel, Buffer.from(message));
  }

  /** The very next frame this device received (held frames first). */
  async next(timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    return this.held.shift() ?? this.link.nextFrame(timeoutMs);
  }

  /** The first frame satisfying `pred`; frames before it stay queued for `next()`. */
  async nextMatching(pred: (f: Frame) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    const index = this.held.findIndex(pred);
    if (index >= 0) return this.held.splice(index, 1)[0]!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let frame: Frame;
      try {
        frame = await this.link.nextFrame(Math.max(1, deadline - Date.now()));
      } catch (err) {
        throw new Error(`${this.deviceId} waiting for ${what}: ${(err as Error).message}; held: [${this.held.map(describeFrame).join(', ')}]`);
      }
      if (pred(frame)) return frame;
      this.held.push(frame);
    }
  }

  /** The next Ack or Error (the answer to a frame this device sent); other frames stay queued. */
  reply(timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    return this.nextMatching((f) => f.type === FrameType.Ack || f.type === FrameType.Error, 'an Ack or Error', timeoutMs);
  }

  /** The next frame, which must have this type and channel. */
  async expectNext(type: FrameType, channel: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    const frame = await this.next(timeoutMs);
    expect(describeFrame(frame)).toMatch(new RegExp(`^${FrameType[type]}@${channel} `));
    return frame;
  }

  /** Sends a control frame and returns its answer. */
  async request(type: FrameType, channel: number, value: JsonValue): Promise<{ sequence: number; answer: Frame }> {
    const sequence = this.sendControl(type, channel, value);
    return { sequence, answer: await this.reply() };
  }

  /** Joins the way the real client does (only itself declared) and expects the Ack. */
  async join(channel: number): Promise<void> {
    const { sequence, answer } = await this.request(FrameType.Join, channel, { members: [this.deviceId], relay: false });
    expect(answer.type).toBe(FrameType.Ack);
    expect(control(answer)).toEqual({ ack: sequence });
  }

  /** Sends a Msg and expects its Ack, which comes only once every recipient's copy is stored. */
  async say(channel: number, message: string): Promise<void> {
    const sequence = this.sendText(channel, message);
    const answer = await this.reply();
    expect(describeFrame(answer)).toBe(describeFrame(controlFrame(FrameType.Ack, channel, 0, { ack: sequence })));
  }

  /** The next frame must be the Msg `message` on `channel`. */
  async expectText(channel: number, message: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const frame = await this.next(timeoutMs);
    expect(describeFrame(frame)).toBe(`Msg@${channel} ${JSON.stringify(message)}`);
  }

  async close(): Promise<void> {
    await this.link.close?.();
  }
}

/** An Error frame with this stable code; `detail`, where present, is text (other fields are not pinned). */
export function expectErrorFrame(frame: Frame, code: string): void {
  expect(describeFrame(frame)).toMatch(/^Error@/);
  const value = control(frame);
  expect(value.error).toBe(code);
  expect(['string', 'undefined']).toContain(typeof value.detail);
}

/** Connects a new device (a new user) to one of the fleet's gateways over the h2 TS client. */
export async function connectPeer(fleet: TestFleet, prefix: string, gateway = 0): Promise<Peer> {
  const identity = newIdentity(prefix);
  const conn: ClientConnection = await connectTo(fleet, identity, { gateway });
  return new Peer(conn, identity);
}

/** Channel ids nobody else in the test run uses (a random base; frames of any channel id go through). */
let nextChannel = 100_000 + Math.floor(Math.random() * 1_000_000_000);
export function freshChannel(): number {
  nextChannel += 1;
  return nextChannel;
}
