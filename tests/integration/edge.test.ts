import * as https from 'node:https';
import * as tls from 'node:tls';
import { FrameStreamDecoder, FrameType, controlFrame, encodeFrame, type Frame } from '@commucat/ccp1';
import { HandshakeRejectedError, buildHello, createDeviceIdentity, fetchServerInfo } from '@commucat/client';
import { NoiseHandshake, NoiseStaticKey, x25519PublicKey } from '@commucat/crypto';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';

jest.setTimeout(90_000);

function h1Request(fleet: TestFleet, method: string, path: string, body?: Buffer): Promise<{ status: number; headers: Record<string, unknown>; frames: Frame[]; text: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const url = new URL(fleet.gatewayUrl());
    const agent = new https.Agent({ ca: fleet.tlsCert, ALPNProtocols: ['http/1.1'], maxCachedSessions: 0 });
    const req = https.request({ host: url.hostname, port: url.port, path, method, agent, headers: body ? { 'content-type': 'application/octet-stream' } : {} }, (res) => {
      const alpn = (res.socket as import('node:tls').TLSSocket).alpnProtocol;
      const decoder = new FrameStreamDecoder();
      const frames: Frame[] = [];
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (path === '/connect') {
          frames.push(...decoder.push(chunk));
          // The handshake stops at Auth because we never send msg3: end our side to finish.
          if (frames.length > 0) req.end();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, frames, text: Buffer.concat(chunks).toString('utf8'), alpn }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    else req.end();
  });
}

describe('the public edge', () => {
  let fleet: TestFleet;
  beforeAll(async () => { fleet = await TestFleet.start(); });
  afterAll(() => fleet?.stop());

  test('HTTP/1.1 clients get server-info, health, problem+json 404s and a chunked /connect', async () => {
    const info = await h1Request(fleet, 'GET', '/api/server-info');
    expect(info.alpn).toBe('http/1.1');
    expect(JSON.parse(info.text).domain).toBe(fleet.domain);
    expect((await h1Request(fleet, 'GET', '/healthz')).status).toBe(200);
    expect(JSON.parse((await h1Request(fleet, 'GET', '/readyz')).text)).toEqual({ status: 'ready' });
    const missing = await h1Request(fleet, 'POST', '/api/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(missing.text)).toEqual({ type: 'about:blank', title: 'Not Found', status: 404 });

    const serverStatic = Buffer.from(JSON.parse(info.text).noise_public, 'hex');
    const identity = createDeviceIdentity({ handle: `h1-${Date.now()}` });
    const noise = new NoiseHandshake({ pattern: 'XK', initiator: true, prologue: Buffer.from('commucat'), staticKey: NoiseStaticKey.fromPrivate(identity.keys.privateKey), remoteStatic: serverStatic });
    const hello = encodeFrame(controlFrame(FrameType.Hello, 0, 1, buildHello({
      identity, domain: fleet.domain, pattern: 'XK', clientStatic: x25519PublicKey(identity.keys.privateKey), handshakeMessage: noise.writeMessage(), capabilities: ['noise'],
    })));
    const connect = await h1Request(fleet, 'POST', '/connect', hello);
    expect(connect.status).toBe(200);
    expect(connect.headers['x-commucat-connect-mode']).toBe('binary');
    expect(connect.frames[0]).toMatchObject({ type: FrameType.Auth, sequence: 1 });
  });

  test('TLS below 1.3 is refused; ALPN offers h2 first', async () => {
    const url = new URL(fleet.gatewayUrl());
    const attempt = (opts: tls.ConnectionOptions) => new Promise<string | false | null>((resolve, reject) => {
      const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: fleet.tlsCert, ...opts }, () => {
        resolve(socket.alpnProtocol);
        socket.end();
      });
      socket.on('error', reject);
    });
    await expect(attempt({ maxVersion: 'TLSv1.2' })).rejects.toThrow();
    expect(await attempt({ ALPNProtocols: ['h2', 'http/1.1'] })).toBe('h2');
  });

  test('an EventSource GET has no body: :ready, then the stream ends as client-closed (spec §2.4)', async () => {
    const res = await h1Request(fleet, 'GET', '/connect?mode=sse');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers.connection).toBe('keep-alive');
    expect(res.text).toBe(':ready\n\n');
  });
});

describe('transport_encryption policies', () => {
  test('"always" encrypts even for a client that did not ask; "required" refuses plaintext clients', async () => {
    const always = await TestFleet.start({ env: { COMMUCAT_TRANSPORT_ENCRYPTION: 'always' } });
    try {
      const asked = await connectTo(always, newIdentity('always'), { noiseTransport: true });
      expect(asked.encrypted).toBe(true);
      await asked.close();
      // The TS client, like a careful client, refuses an encryption it did not ask for.
      await expect(connectTo(always, newIdentity('always-plain'))).rejects.toThrow(/transport_encryption|noise/i);
    } finally {
      await always.stop();
    }
    const required = await TestFleet.start({ env: { COMMUCAT_TRANSPORT_ENCRYPTION: 'required' } });
    try {
      const err = await connectTo(required, newIdentity('plain')).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(HandshakeRejectedError);
      expect((err as HandshakeRejectedError).properties).toEqual({ detail: 'invalid request', error: 'handshake' });
      const ok = await connectTo(required, newIdentity('enc'), { noiseTransport: true });
      expect(ok.encrypted).toBe(true);
      await ok.close();
      expect((await fetchServerInfo(required.gatewayUrl(), { ca: required.tlsCert })).domain).toBe(required.domain);
    } finally {
      await required.stop();
    }
  });
});
