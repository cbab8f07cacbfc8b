import * as http2 from 'node:http2';
import { FrameType, encodeFrame, frameTypeLabel, type Frame } from '@commucat/ccp1';
import { fetchServerInfo } from '@commucat/client';
import WebSocket from 'ws';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { Peer, connectPeer, control, freshChannel, type FrameLink } from '../support/conversation';
import { ScriptedHandshake, frameOfUnit } from '../support/scripted-handshake';

// Every /connect mode (spec §2.3–§2.6) carries a whole conversation, not just the handshake: the
// mode's device on gateway 0 chats with an h2 TS client on gateway 1 through the router.

jest.setTimeout(60_000);
let fleet: TestFleet;
let serverStatic: Buffer;
beforeAll(async () => {
  fleet = await TestFleet.start({ gateways: 2 });
  serverStatic = Buffer.from((await fetchServerInfo(fleet.gatewayUrl(0), { ca: fleet.tlsCert })).noise_public as string, 'hex');
});
afterAll(() => fleet?.stop());

/** Frames decoded from a mode's downstream units, handed out in order. */
class FrameQueue {
  private readonly frames: Frame[] = [];
  private readonly waiters: Array<() => void> = [];
  private endedWith: string | undefined;

  push(frame: Frame): void {
    this.frames.push(frame);
    this.waiters.splice(0).forEach((wake) => wake());
  }

  end(reason: string): void {
    this.endedWith ??= reason;
    this.waiters.splice(0).forEach((wake) => wake());
  }

  async next(timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.endedWith !== undefined) throw new Error(`stream ended (${this.endedWith})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }
}

/**
 * A device speaking one of the HEAD-only modes: upstream bytes go through `write`, downstream units
 * are pushed into `queue`. After the scripted XK handshake it numbers its frames from 3 (§4.9).
 */
class ModeLink implements FrameLink {
  readonly queue = new FrameQueue();
  readonly handshake = new ScriptedHandshake(serverStatic, fleet.domain);
  private sequence = 3;

  constructor(private readonly write: (bytes: Buffer) => void, private readonly finish: () => void) {}

  async establish(): Promise<void> {
    this.write(this.handshake.hello());
    while (!this.handshake.ack) {
      const reply = this.handshake.onFrame(await this.queue.next());
      if (reply) this.write(reply);
    }
    expect(control(this.handshake.ack)).toMatchObject({ handshake: 'ok' });
  }

  send(frame: Frame): void {
    this.write(encodeFrame(frame));
  }

  nextSequence(): number {
    return this.sequence++;
  }

  nextFrame(timeoutMs?: number): Promise<Frame> {
    return this.queue.next(timeoutMs);
  }

  async close(): Promise<void> {
    this.finish();
  }
}

/** An h2 POST /connect in a text mode; `onRecord` turns each separator-delimited record into frames. */
function textModeLink(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, separator: string, onRecord: (record: string) => Buffer | undefined): { link: ModeLink; responseHeaders: Promise<http2.IncomingHttpHeaders> } {
  const stream = session.request({ ':method': 'POST', ':path': '/connect', 'content-type': 'application/octet-stream', ...headers }, { endStream: false });
  const link = new ModeLink((bytes) => stream.write(bytes), () => stream.end());
  const responseHeaders = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    for (let at = buffered.indexOf(separator); at >= 0; at = buffered.indexOf(separator)) {
      const unit = onRecord(buffered.slice(0, at));
      buffered = buffered.slice(at + separator.length);
      if (unit) link.queue.push(frameOfUnit(unit));
    }
  });
  stream.on('end', () => link.queue.end('end'));
  stream.on('error', (err) => link.queue.end(err.message));
  return { link, responseHeaders };
}

/** The chat every mode must carry: join one channel, each side sends, each side receives. */
async function converse(modeDevice: Peer, mode: string): Promise<void> {
  const h2Identity = newIdentity(`chat-h2-${mode}`);
  const h2 = new Peer(await connectTo(fleet, h2Identity, { gateway: 1 }), h2Identity);
  try {
    const channel = freshChannel();
    await modeDevice.join(channel);
    await h2.join(channel);
    await modeDevice.say(channel, `hello from ${mode}`);
    await h2.expectText(channel, `hello from ${mode}`);
    await h2.say(channel, `hello back over ${mode}`);
    await modeDevice.expectText(channel, `hello back over ${mode}`);
    // A control frame relayed the other way too, decoded from the mode's own unit encoding.
    const typing = await h2.request(FrameType.Typing, channel, { device: h2.deviceId, typing: true });
    expect(control(typing.answer)).toEqual({ ack: typing.sequence });
    expect(control(await modeDevice.expectNext(FrameType.Typing, channel))).toEqual({ device: h2.deviceId, typing: true });
  } finally {
    await h2.close();
  }
}

describe('a conversation over each /connect mode (spec §2.3–§2.6)', () => {
  test('binary: h2 duplex POST (the real client\'s mode)', async () => {
    const device = await connectPeer(fleet, 'chat-binary', 0);
    try {
      await converse(device, 'binary');
    } finally {
      await device.close();
    }
  });

  test('WebSocket: binary messages both ways, and a base64 text message up', async () => {
    const ws = new WebSocket(fleet.gatewayUrl(0).replace('https:', 'wss:'), { ca: fleet.tlsCert, ALPNProtocols: ['http/1.1'] } as WebSocket.ClientOptions);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    let textUplink = false;
    // Frames go up as binary messages, except that every other one goes as base64 text (§2.6).
    const link = new ModeLink((bytes) => {
      if (textUplink) ws.send(bytes.toString('base64'));
      else ws.send(bytes, { binary: true });
      textUplink = !textUplink && link.handshake.ack !== undefined;
    }, () => ws.close(1000));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Downstream units are always binary messages (§2.6).
      if (isBinary) link.queue.push(frameOfUnit(data));
      else link.queue.end(`a text message came down: ${data.toString().slice(0, 40)}`);
    });
    ws.on('close', () => link.queue.end('closed'));
    await link.establish();
    const device = new Peer(link, link.handshake.identity);
    try {
      await converse(device, 'websocket');
    } finally {
      await device.close();
    }
  });

  test('SSE: frames down as `event: frame` records, frames up in the POST body', async () => {
    const session = http2.connect(new URL(fleet.gatewayUrl(0)).origin, { ca: fleet.tlsCert });
    try {
      const { link, responseHeaders } = textModeLink(session, { accept: 'text/event-stream' }, '\n\n', (record) => {
        if (!record.startsWith('event: frame\n')) return undefined; // :ready, :keepalive
        const [, id, data] = record.split('\n');
        const unit = Buffer.from(data!.slice('data: '.length), 'base64');
        expect(id).toBe(`id: ${frameOfUnit(unit).sequence}`);
        return unit;
      });
      await link.establish();
      expect((await responseHeaders)['x-commucat-connect-mode']).toBe('sse');
      const device = new Peer(link, link.handshake.identity);
      try {
        await converse(device, 'sse');
      } finally {
        await device.close();
      }
    } finally {
      session.close();
    }
  });

  test('NDJSON long-poll: frames down as JSON lines, frames up in the POST body', async () => {
    const session = http2.connect(new URL(fleet.gatewayUrl(0)).origin, { ca: fleet.tlsCert });
    try {
      const { link, responseHeaders } = textModeLink(session, { 'x-connect-mode': 'long-poll' }, '\n', (record) => {
        const line = JSON.parse(record) as { keepalive?: boolean; channel?: number; data?: string; sequence?: number; type?: string };
        if (line.keepalive) return undefined;
        const unit = Buffer.from(line.data!, 'base64');
        const frame = frameOfUnit(unit);
        expect(line).toEqual({ channel: frame.channel, data: line.data, sequence: frame.sequence, type: frameTypeLabel(frame.type) });
        return unit;
      });
      await link.establish();
      expect((await responseHeaders)['x-commucat-connect-mode']).toBe('long-poll');
      const device = new Peer(link, link.handshake.identity);
      try {
        await converse(device, 'ndjson');
      } finally {
        await device.close();
      }
    } finally {
      session.close();
    }
  });
});
