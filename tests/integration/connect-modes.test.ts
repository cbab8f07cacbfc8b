import * as http2 from 'node:http2';
import * as https from 'node:https';
import { FrameType, frameTypeLabel } from '@commucat/ccp1';
import { fetchServerInfo } from '@commucat/client';
import WebSocket from 'ws';
import { TestFleet } from '../support/fleet';
import { ScriptedHandshake, frameOfUnit } from '../support/scripted-handshake';

jest.setTimeout(60_000);
let fleet: TestFleet;
let serverStatic: Buffer;
let session: http2.ClientHttp2Session;
beforeAll(async () => {
  // keepalive 2 s → a keepalive interval of max(5, 1) = 5 s (spec §2.7)
  fleet = await TestFleet.start({ env: { COMMUCAT_KEEPALIVE: '2' } });
  serverStatic = Buffer.from((await fetchServerInfo(fleet.gatewayUrl(), { ca: fleet.tlsCert })).noise_public as string, 'hex');
  session = http2.connect(new URL(fleet.gatewayUrl()).origin, { ca: fleet.tlsCert });
});
afterAll(async () => {
  session?.close();
  await fleet?.stop();
});

/** Opens an h2 /connect stream in a text mode and hands each received line-record to `onRecord`. */
function textModeStream(headers: http2.OutgoingHttpHeaders, separator: string) {
  const stream = session.request({ ':method': 'POST', ':path': '/connect', 'content-type': 'application/octet-stream', ...headers }, { endStream: false });
  let buffered = '';
  const records: string[] = [];
  let responseHeaders: http2.IncomingHttpHeaders = {};
  const waiters: Array<() => void> = [];
  stream.on('response', (h) => { responseHeaders = h; });
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    buffered += text;
    for (let i = buffered.indexOf(separator); i >= 0; i = buffered.indexOf(separator)) {
      records.push(buffered.slice(0, i));
      buffered = buffered.slice(i + separator.length);
    }
    waiters.splice(0).forEach((w) => w());
  });
  const waitFor = async (pred: () => boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out; records so far: ${JSON.stringify(records)}`);
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 100); });
    }
  };
  return { stream, records, headers: () => responseHeaders, waitFor };
}

describe('/connect modes (spec §2.4–§2.6)', () => {
  test('SSE: :ready, one event per frame with the frame sequence as id, then keepalives', async () => {
    const hs = new ScriptedHandshake(serverStatic, fleet.domain);
    const sse = textModeStream({ accept: 'text/event-stream' }, '\n\n');
    sse.stream.write(hs.hello());
    let handled = 0;
    await sse.waitFor(() => {
      for (; handled < sse.records.length; handled++) {
        const record = sse.records[handled]!;
        if (!record.startsWith('event: frame')) continue;
        const [, id, data] = record.split('\n');
        const frame = frameOfUnit(Buffer.from(data!.slice('data: '.length), 'base64'));
        expect(id).toBe(`id: ${frame.sequence}`);
        const reply = hs.onFrame(frame);
        if (reply) sse.stream.write(reply);
      }
      return hs.ack !== undefined;
    });
    expect(sse.headers()['content-type']).toBe('text/event-stream');
    expect(sse.headers()['x-commucat-connect-mode']).toBe('sse');
    expect(sse.records[0]).toBe(':ready');
    expect(hs.frames.map((f) => f.type)).toEqual([FrameType.Auth, FrameType.Ack]);
    await sse.waitFor(() => sse.records.includes(':keepalive'), 12_000);
    sse.stream.end();
  });

  test('NDJSON long-poll: one sorted JSON line per frame, then a keepalive line', async () => {
    const hs = new ScriptedHandshake(serverStatic, fleet.domain);
    const nd = textModeStream({ 'x-connect-mode': 'long-poll' }, '\n');
    nd.stream.write(hs.hello());
    let handled = 0;
    await nd.waitFor(() => {
      for (; handled < nd.records.length; handled++) {
        const line = JSON.parse(nd.records[handled]!);
        if (line.keepalive) continue;
        expect(Object.keys(line)).toEqual(['channel', 'data', 'sequence', 'type']);
        const frame = frameOfUnit(Buffer.from(line.data, 'base64'));
        expect(line).toMatchObject({ channel: frame.channel, sequence: frame.sequence, type: frameTypeLabel(frame.type) });
        const reply = hs.onFrame(frame);
        if (reply) nd.stream.write(reply);
      }
      return hs.ack !== undefined;
    });
    expect(nd.headers()['x-commucat-connect-mode']).toBe('long-poll');
    expect(nd.headers()['content-type']).toBe('application/x-ndjson');
    await nd.waitFor(() => nd.records.includes('{"keepalive":true}'), 12_000);
    nd.stream.end();
  });

  test('WebSocket: binary messages down, binary or base64 text up, pings answered', async () => {
    const hs = new ScriptedHandshake(serverStatic, fleet.domain);
    const url = fleet.gatewayUrl().replace('https:', 'wss:');
    const ws = new WebSocket(url, { ca: fleet.tlsCert, ALPNProtocols: ['http/1.1'] } as WebSocket.ClientOptions);
    const upgradeHeaders = new Promise<Record<string, string | string[] | undefined>>((resolve) => ws.once('upgrade', (res) => resolve(res.headers)));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    expect((await upgradeHeaders)['x-commucat-connect-mode']).toBe('websocket');
    const acked = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).toBe(true);
        const reply = hs.onFrame(frameOfUnit(data));
        // msg3 goes up as base64 text, exercising the text path; garbage text is ignored first.
        if (reply) { ws.send('not base64!'); ws.send(` ${reply.toString('base64')}\n`); }
        if (hs.ack) resolve();
      });
    });
    ws.send(hs.hello(), { binary: true });
    await acked;
    expect(hs.frames.map((f) => f.type)).toEqual([FrameType.Auth, FrameType.Ack]);
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping(Buffer.from('are you there'));
    expect((await pong).toString()).toBe('are you there');
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.close(1000);
    expect(await closed).toBe(1000);
  });

  test.each([
    ['POST with mode=ws over HTTP/1.1', 'POST', '/connect?mode=ws', {}, 405],
    ['WebSocket version 12', 'GET', '/connect', { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '12', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }, 400],
    ['WebSocket without a key', 'GET', '/connect', { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13' }, 400],
  ])('refused: %s', async (_name, method, path, headers, status) => {
    const url = new URL(fleet.gatewayUrl());
    const agent = new https.Agent({ ca: fleet.tlsCert, ALPNProtocols: ['http/1.1'] });
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request({ host: url.hostname, port: url.port, path, method, agent, headers }, (r) => {
        let body = '';
        r.on('data', (d) => { body += d; });
        r.on('end', () => resolve({ status: r.statusCode!, body }));
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toMatchObject({ status });
  });

  test('WebSocket mode over HTTP/2 is a 400', async () => {
    const stream = session.request({ ':method': 'GET', ':path': '/connect?transport=ws' });
    const status = await new Promise<number>((resolve) => stream.on('response', (h) => resolve(Number(h[':status']))));
    stream.close();
    expect(status).toBe(400);
  });
});
