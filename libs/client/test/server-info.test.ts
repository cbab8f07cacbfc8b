import { FrameType, controlFrame, encodeFrame, FrameStreamDecoder } from '@commucat/ccp1';
import { bytesToHex } from '@commucat/crypto';
import { fetchServerInfo, HttpStatusError, openConnectStream, serverStaticFromInfo } from '@commucat/client';
import { TestGateway } from './support/test-gateway';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await TestGateway.start({ onHello: () => ({ kind: 'reject', error: { error: 'handshake', detail: 'invalid request' } }) });
});
afterAll(() => gateway.close());

describe('fetchServerInfo', () => {
  it('GETs /api/server-info losslessly and yields the domain and server static key', async () => {
    const info = await fetchServerInfo(`${gateway.url}/connect`, { ca: gateway.tls.cert });
    expect(info['u64_probe']).toBe(18_446_744_073_709_551_615n);
    expect(info['noise_public']).toBe(bytesToHex(gateway.serverKey.publicKey));
    expect(serverStaticFromInfo(info)).toEqual({ domain: gateway.domain, serverStatic: gateway.serverKey.publicKey });
  });

  it('requires domain and a 32-byte noise_public', () => {
    expect(() => serverStaticFromInfo({ noise_public: 'aa' })).toThrow(expect.objectContaining({ code: 'Protocol' }));
    expect(() => serverStaticFromInfo({ domain: 'd', noise_public: 'abcd' })).toThrow(expect.objectContaining({ code: 'Protocol' }));
  });

  it('fails with HttpStatusError for a non-200 answer and Network when nobody listens', async () => {
    const failing = await TestGateway.start({ serverInfoStatus: 503 });
    try {
      const failure = await fetchServerInfo(failing.url, { rejectUnauthorized: false }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(HttpStatusError);
      expect((failure as HttpStatusError).status).toBe(503);
      expect((failure as HttpStatusError).body).toContain('Service Unavailable');
    } finally {
      await failing.close();
    }
    await expect(fetchServerInfo('https://127.0.0.1:1/', { rejectUnauthorized: false })).rejects.toMatchObject({ code: 'Network' });
  });
});

describe('openConnectStream', () => {
  it('is the raw duplex /connect stream: bytes go up as they are, the answer comes back as frames', async () => {
    const stream = openConnectStream(gateway.url, { rejectUnauthorized: false });
    const decoder = new FrameStreamDecoder();
    const received: unknown[] = [];
    stream.on('data', (chunk: Buffer) => received.push(...decoder.push(chunk)));
    const status = new Promise((resolve) => stream.on('response', (headers) => resolve(headers[':status'])));
    stream.write(encodeFrame(controlFrame(FrameType.Hello, 0, 1, { pattern: 'XK' })));
    await new Promise((resolve) => stream.on('end', resolve));
    expect(await status).toBe(200);
    expect(received).toEqual([controlFrame(FrameType.Error, 0, 1, { error: 'handshake', detail: 'invalid request' })]);
    const server = gateway.connections.at(-1)!;
    expect(server.headers['user-agent']).toBe('CommuCat-CLI/0.1');
    stream.close();
  });

  it('keeps a URL path and query, and lets the caller change method and headers', async () => {
    const stream = openConnectStream(`${gateway.url}/connect?mode=binary`, {
      rejectUnauthorized: false,
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    });
    stream.resume();
    stream.end();
    await new Promise((resolve) => stream.on('close', resolve));
    const request = gateway.requests.at(-1)!;
    expect(request[':method']).toBe('GET');
    expect(request[':path']).toBe('/connect?mode=binary');
    expect(request['accept']).toBe('text/event-stream');
    expect(request['content-type']).toBe('application/octet-stream');
  });

  it('uses /connect for a bare origin', async () => {
    const stream = openConnectStream(`${gateway.url}/`, { rejectUnauthorized: false });
    stream.resume();
    stream.end();
    await new Promise((resolve) => stream.on('close', resolve));
    expect(gateway.requests.at(-1)![':path']).toBe('/connect');
  });
});
