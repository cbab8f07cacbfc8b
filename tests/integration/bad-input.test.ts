import * as http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { FrameType, controlFrame, encodeFrame, encodeVarint, opaqueFrame, type Frame } from '@commucat/ccp1';
import { buildHello, createDeviceIdentity, fetchServerInfo } from '@commucat/client';
import { NoiseHandshake, NoiseStaticKey, x25519PublicKey } from '@commucat/crypto';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { rawExchange, type RawExchange } from '../support/raw-connect';

jest.setTimeout(300_000);
let fleet: TestFleet;
let serverStatic: Buffer;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  fleet = await TestFleet.start();
  serverStatic = Buffer.from((await fetchServerInfo(fleet.gatewayUrl(), { ca: fleet.tlsCert })).noise_public as string, 'hex');
  session = http2.connect(new URL(fleet.gatewayUrl()).origin, { ca: fleet.tlsCert });
});
afterAll(async () => {
  session?.close();
  await fleet?.stop();
});

/** A seeded PRNG (mulberry32) so a failing input can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function validHelloBytes(): Buffer {
  const identity = createDeviceIdentity({ handle: `fuzz-${Date.now()}` });
  const noise = new NoiseHandshake({ pattern: 'XK', initiator: true, prologue: Buffer.from('commucat'), staticKey: NoiseStaticKey.fromPrivate(identity.keys.privateKey), remoteStatic: serverStatic });
  return encodeFrame(controlFrame(FrameType.Hello, 0, 1, buildHello({
    identity, domain: fleet.domain, pattern: 'XK', clientStatic: x25519PublicKey(identity.keys.privateKey), handshakeMessage: noise.writeMessage(), capabilities: ['noise', 'zstd'],
  })));
}

/** Random frames, mutated Hellos, truncations and plain garbage. */
function badInput(rand: () => number, hello: Buffer): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  switch (int(5)) {
    case 0: { // flip a few bytes of a real Hello
      const b = Buffer.from(hello);
      for (let i = 0, n = 1 + int(4); i < n; i++) b[int(b.length)] = int(256);
      return b;
    }
    case 1: // a real Hello cut short
      return hello.subarray(0, int(hello.length));
    case 2: { // a well-formed frame of a random type with random payload
      const type = 1 + int(0x14);
      const payload = Buffer.from(Array.from({ length: int(64) }, () => int(256)));
      return encodeFrame(opaqueFrame(type as FrameType, int(1000), int(1000), payload));
    }
    case 3: // random bytes
      return Buffer.from(Array.from({ length: 1 + int(200) }, () => int(256)));
    default: { // bytes inserted into a real Hello
      const at = int(hello.length);
      return Buffer.concat([hello.subarray(0, at), Buffer.from([int(256), int(256)]), hello.subarray(at)]);
    }
  }
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) * 1024;
}

const errorKind = (f: Frame): string | undefined =>
  f.type === FrameType.Error && f.payload.kind === 'control' ? String((f.payload.value as Record<string, unknown>).error) : undefined;

describe('bad input on /connect', () => {
  test('10,000 random or mutated frames: every stream ends with a clear answer and the gateway stays healthy', async () => {
    const rand = prng(20261126);
    const hello = validHelloBytes();
    const gatewayPid = fleet.pidOf('gateway-0')!;
    const rssBefore = rssOf(gatewayPid);
    const tally = { decode: 0, handshake: 0, auth: 0, silent: 0 };
    const total = 10_000;
    const concurrency = 50;
    let next = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (next < total) {
        const index = next++;
        const input = badInput(rand, hello);
        const res: RawExchange = await rawExchange(fleet.gatewayUrl(), fleet.tlsCert, [input], { endRequest: true, session, timeoutMs: 15_000 });
        const kinds = res.frames.map((f) => errorKind(f) ?? FrameType[f.type]);
        if (res.ending === 'timeout') failures.push(`#${index} timed out: ${input.toString('hex').slice(0, 80)}`);
        else if (kinds.length === 0) tally.silent++;
        else if (kinds[0] === 'decode' && kinds.length === 1) tally.decode++;
        else if (kinds[0] === 'handshake' && kinds.length === 1) tally.handshake++;
        else if (kinds[0] === 'Auth' && kinds.length === 1) tally.auth++; // the mutation left a valid Hello
        else failures.push(`#${index} answered ${kinds.join(',')}: ${input.toString('hex').slice(0, 80)}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    expect(failures).toEqual([]);
    expect(tally.decode + tally.handshake + tally.auth + tally.silent).toBe(total);
    expect(tally.decode).toBeGreaterThan(1000);
    expect(tally.handshake).toBeGreaterThan(300);

    // nothing crashed, memory did not run away, and real clients still get in
    for (const name of ['secrets', 'directory', 'presence', 'gateway-0']) expect(process.kill(fleet.pidOf(name)!, 0)).toBe(true);
    expect(rssOf(gatewayPid) - rssBefore).toBeLessThan(200 * 1024 * 1024);
    const conn = await connectTo(fleet, newIdentity('after-fuzz'));
    expect(conn.ack.handshake).toBe('ok');
    await conn.close();
  });

  test('a LEN above 16 MiB is refused before any body arrives', async () => {
    const res = await rawExchange(fleet.gatewayUrl(), fleet.tlsCert, [encodeVarint(16_777_217)], { session });
    expect(res.frames).toHaveLength(1);
    expect(res.frames[0]).toMatchObject({ type: FrameType.Error, channel: 0, sequence: 1, payload: { value: { error: 'decode' } } });
    expect(res.ending).toBe('end');
  });

  test('a megabyte of garbage gets the decode error; a truncated Hello gets silence; both end cleanly', async () => {
    const garbage = Buffer.alloc(1 << 20, 0xff);
    const res = await rawExchange(fleet.gatewayUrl(), fleet.tlsCert, [garbage], { session });
    expect(res.frames.map(errorKind)).toEqual(['decode']);
    const truncated = await rawExchange(fleet.gatewayUrl(), fleet.tlsCert, [validHelloBytes().subarray(0, 40)], { endRequest: true, session });
    expect(truncated).toMatchObject({ frames: [], ending: 'end' });
  });

  test('a frame with LEN 0 inside the stream does not stall the connection (trap T6)', async () => {
    const res = await rawExchange(fleet.gatewayUrl(), fleet.tlsCert, [Buffer.from([0x00])], { session, timeoutMs: 5000 });
    expect(res.frames.map(errorKind)).toEqual(['decode']);
  });
});

describe('input flow control', () => {
  test('a client flooding 100 MiB while its Hello waits on the directory is held back or reset, never buffered', async () => {
    const gatewayPid = fleet.pidOf('gateway-0')!;
    const rssBefore = rssOf(gatewayPid);
    await fleet.stopProcess('directory'); // the Hello now waits (up to its deadline) for the directory
    try {
      const { openConnectStream } = await import('@commucat/client');
      const stream = openConnectStream(fleet.gatewayUrl(), { ca: fleet.tlsCert, session });
      stream.on('error', () => undefined);
      stream.write(validHelloBytes());
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let accepted = 0;
      for (let i = 0; i < 1600; i++) stream.write(chunk, (err) => { if (!err && !stream.closed) accepted += chunk.length; });
      await new Promise((r) => setTimeout(r, 2000));
      // Either HTTP/2 flow control holds the client back (the gateway pauses reading past ~1 MiB),
      // or Node's per-session memory cap resets the stream with ENHANCE_YOUR_CALM.
      if (stream.closed) expect(stream.rstCode).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      else expect(accepted).toBeLessThan(8 * 1024 * 1024);
      expect(rssOf(gatewayPid) - rssBefore).toBeLessThan(64 * 1024 * 1024);
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    } finally {
      await fleet.startService('directory');
    }
    const conn = await connectTo(fleet, newIdentity('after-flood'));
    expect(conn.ack.handshake).toBe('ok');
    await conn.close();
  });
});
