import http2 from 'node:http2';
import { controlFrame, encodeFrame, type Frame, FrameType, type JsonValue } from '@commucat/ccp1';
import { bytesToHex, certificateToJson, DeviceKeyPair, signCertificate, verifyCertificate, x25519PublicKey } from '@commucat/crypto';
import {
  type ClientConnection,
  ClientError,
  ConnectionClosedError,
  connectClient,
  type ConnectClientOptions,
  createDeviceIdentity,
  type DeviceIdentity,
  HandshakeRejectedError,
  HttpStatusError,
} from '@commucat/client';
import { TestGateway, type TestGatewayOptions } from './support/test-gateway';

const gateways: TestGateway[] = [];
const connections: ClientConnection[] = [];

async function startGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gateway = await TestGateway.start(options);
  gateways.push(gateway);
  return gateway;
}

function clientOptions(gateway: TestGateway, identity: DeviceIdentity, extra: Partial<ConnectClientOptions> = {}): ConnectClientOptions {
  return {
    url: gateway.url,
    domain: gateway.domain,
    serverStatic: gateway.serverKey.publicKey,
    identity,
    rejectUnauthorized: false,
    timeoutMs: 3000,
    ...extra,
  };
}

async function connect(gateway: TestGateway, identity: DeviceIdentity, extra: Partial<ConnectClientOptions> = {}): Promise<ClientConnection> {
  const connection = await connectClient(clientOptions(gateway, identity, extra));
  connections.push(connection);
  return connection;
}

function controlValue(frame: Frame | undefined): Record<string, JsonValue> {
  if (frame === undefined || frame.payload.kind !== 'control') throw new Error('expected a control frame');
  return frame.payload.value as Record<string, JsonValue>;
}

afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

describe('XK handshake', () => {
  it('sends the real client request and Hello, answers msg2 with msg3 on the Auth channel, and opens the session', async () => {
    const gateway = await startGateway({ authChannel: 7 });
    const identity = createDeviceIdentity({ handle: 'alice' });
    const connection = await connect(gateway, identity);
    const server = gateway.connections[0]!;

    expect(server.headers[':method']).toBe('POST');
    expect(server.headers[':path']).toBe('/connect');
    expect(server.headers['content-type']).toBe('application/octet-stream');
    expect(server.headers['user-agent']).toBe('CommuCat-CLI/0.1');
    expect(server.headers['te']).toBe('trailers');

    expect(server.hello).toMatchObject({ type: FrameType.Hello, channel: 0, sequence: 1 });
    const hello = controlValue(server.hello);
    expect(hello['pattern']).toBe('XK');
    expect(hello['capabilities']).toEqual(['noise', 'zstd']);
    expect(hello['client_static']).toBe(bytesToHex(x25519PublicKey(identity.keys.privateKey)));
    expect(hello['user']).toEqual({ handle: 'alice' });
    expect(server.zkpValid).toBe(true);

    // msg3 goes on the server Auth's channel (7 here), sequence 2, and carries Hello's static key.
    expect(server.clientAuth).toMatchObject({ type: FrameType.Auth, channel: 7, sequence: 2 });
    expect(server.msg3StaticMatchesHello).toBe(true);

    expect(connection.session).toBe(server.session);
    expect(connection.auth['session']).toBe(server.session);
    expect(connection.auth['server_static']).toBe(bytesToHex(gateway.serverKey.publicKey));
    expect(connection.handshakePayload['domain']).toBe(gateway.domain);
    expect(connection.ack['handshake']).toBe('ok');
    expect(connection.encrypted).toBe(false);
    expect(identity.userId).toBe('user-alice');
  });

  it('numbers application frames from 3 with one counter for all channels', async () => {
    const gateway = await startGateway();
    const connection = await connect(gateway, createDeviceIdentity({ handle: 'bob' }));
    expect(connection.sendControl(FrameType.Join, 5, { members: [connection.identity.deviceId], relay: false })).toBe(3);
    expect(connection.sendOpaque(FrameType.Msg, 5, Buffer.from('hello'))).toBe(4);
    expect(connection.sendControl(FrameType.Presence, 0, { state: 'away' })).toBe(5);

    expect(controlValue(await connection.nextFrame())).toEqual({ ack: 3 });
    const second = await connection.nextFrame();
    expect(second).toMatchObject({ type: FrameType.Ack, channel: 5 });
    expect(controlValue(second)).toEqual({ ack: 4 });
    const server = gateway.connections[0]!;
    await gateway.waitFor(() => server.received.length === 3);
    expect(server.received.map((frame) => [frame.type, frame.channel, frame.sequence])).toEqual([
      [FrameType.Join, 5, 3],
      [FrameType.Msg, 5, 4],
      [FrameType.Presence, 0, 5],
    ]);
    expect(server.received[1]!.payload).toEqual({ kind: 'opaque', bytes: Buffer.from('hello') });
  });

  it('hands frames that arrive before the Ack to the application, like the real client passes them to its UI', async () => {
    const early = controlFrame(FrameType.Presence, 0, 9, { entity: 'someone', state: 'online' });
    const gateway = await startGateway({ beforeAuth: [early] });
    const connection = await connect(gateway, createDeviceIdentity({ handle: 'carol' }));
    expect(await connection.nextFrame()).toEqual(early);
  });

  it('rejects an Ack "ok" that arrives before the server Auth', async () => {
    const gateway = await startGateway({ onHello: () => ({ kind: 'silent' }) });
    const promise = connectClient(clientOptions(gateway, createDeviceIdentity()));
    await gateway.waitFor(() => gateway.connections[0]?.hello !== undefined);
    gateway.connections[0]!.sendRaw(encodeFrame(controlFrame(FrameType.Ack, 0, 2, { handshake: 'ok' })));
    await expect(promise).rejects.toMatchObject({ code: 'Protocol', message: expect.stringContaining('before the server Auth') });
  });

  it('takes the session from the msg2 payload, "unknown" when the payload is empty', async () => {
    const gateway = await startGateway({ msg2Payload: () => '' });
    const connection = await connect(gateway, createDeviceIdentity());
    expect(connection.session).toBe('unknown');
    expect(connection.handshakePayload).toEqual({});
  });

  it('fails with "session missing" when the msg2 payload has no string session, and on non-JSON', async () => {
    const noSession = await startGateway({ msg2Payload: () => '{"session":42}' });
    await expect(connectClient(clientOptions(noSession, createDeviceIdentity()))).rejects.toMatchObject({
      code: 'Protocol',
      message: 'session missing',
    });
    const notJson = await startGateway({ msg2Payload: () => 'not json' });
    await expect(connectClient(clientOptions(notJson, createDeviceIdentity()))).rejects.toMatchObject({ code: 'Protocol' });
  });
});

describe('IK handshake', () => {
  it('finishes after msg2 without sending msg3, then numbers frames from 3', async () => {
    const gateway = await startGateway();
    const connection = await connect(gateway, createDeviceIdentity({ handle: 'ivan' }), { pattern: 'IK' });
    const server = gateway.connections[0]!;
    expect(controlValue(server.hello)['pattern']).toBe('IK');
    expect(server.clientAuth).toBeUndefined();
    expect(connection.session).toBe(server.session);

    connection.sendControl(FrameType.Join, 2, { members: [], relay: false });
    expect(controlValue(await connection.nextFrame())).toEqual({ ack: 3 });
    // The first thing the server got after the handshake is the Join, not an Auth.
    expect(server.received.map((frame) => frame.type)).toEqual([FrameType.Join]);
  });
});

describe('handshake failures', () => {
  it('turns an Error frame into HandshakeRejectedError with its properties', async () => {
    const error = { detail: 'pairing required', error: 'handshake', pairing_required: true, title: 'PairingRequired' };
    const gateway = await startGateway({ onHello: () => ({ kind: 'reject', error }) });
    const failure = await connectClient(clientOptions(gateway, createDeviceIdentity())).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HandshakeRejectedError);
    const rejected = failure as HandshakeRejectedError;
    expect(rejected.code).toBe('HandshakeRejected');
    expect(rejected.error).toBe('handshake');
    expect(rejected.detail).toBe('pairing required');
    expect(rejected.title).toBe('PairingRequired');
    expect(rejected.pairingRequired).toBe(true);
    expect(rejected.properties).toEqual(error);
  });

  it('rejects when the responder cannot read msg1 (different prologue) with the Error detail', async () => {
    const gateway = await startGateway({ prologue: 'other' });
    await expect(connectClient(clientOptions(gateway, createDeviceIdentity()))).rejects.toMatchObject({
      code: 'HandshakeRejected',
      detail: 'invalid request',
    });
  });

  it('reports a stream that ends before the Ack as ConnectionClosedError', async () => {
    const gateway = await startGateway({ onHello: () => ({ kind: 'end' }) });
    const failure = await connectClient(clientOptions(gateway, createDeviceIdentity())).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConnectionClosedError);
    expect((failure as ClientError).code).toBe('ConnectionClosed');
  });

  it('gives up with Timeout when the server never answers', async () => {
    const gateway = await startGateway({ onHello: () => ({ kind: 'silent' }) });
    await expect(connectClient(clientOptions(gateway, createDeviceIdentity(), { timeoutMs: 200 }))).rejects.toMatchObject({
      code: 'Timeout',
    });
  });

  it('reports a non-200 /connect answer with its status and body', async () => {
    const gateway = await startGateway({ connectStatus: 429 });
    const failure = await connectClient(clientOptions(gateway, createDeviceIdentity())).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HttpStatusError);
    expect((failure as HttpStatusError).status).toBe(429);
    expect((failure as HttpStatusError).body).toContain('Too Many Requests');
  });

  it('refuses the self-signed certificate unless told otherwise, and accepts it as a CA', async () => {
    const gateway = await startGateway();
    const strict = clientOptions(gateway, createDeviceIdentity());
    delete strict.rejectUnauthorized;
    await expect(connectClient(strict)).rejects.toMatchObject({ code: 'Tls' });
    const trusting = await connect(gateway, createDeviceIdentity(), { rejectUnauthorized: true, ca: gateway.tls.cert });
    expect(trusting.ack['handshake']).toBe('ok');
  });

  it('reports a refused TCP connection as Network', async () => {
    const gateway = await startGateway();
    const url = gateway.url;
    await gateway.close();
    gateways.splice(gateways.indexOf(gateway), 1);
    await expect(
      connectClient({ url, domain: 'example.org', serverStatic: gateway.serverKey.publicKey, identity: createDeviceIdentity(), timeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: 'Network' });
  });
});

describe('certificates', () => {
  it('stores the verified Ack certificate and presents it, serial exact, on the next connect', async () => {
    const gateway = await startGateway();
    const identity = createDeviceIdentity({ handle: 'dora' });
    const first = await connect(gateway, identity);
    expect(first.certificateStored).toBe(true);
    expect(identity.certificate?.serial).toBe(2n ** 63n + 12_345n);
    expect(identity.certificate?.deviceId).toBe(identity.deviceId);
    expect(identity.deviceCaPublic).toEqual(gateway.ca.publicKey);
    expect(identity.userId).toBe('user-dora');
    await first.close();

    await connect(gateway, identity);
    const second = gateway.connections[1]!;
    expect(second.presentedCertificate).toEqual(identity.certificate);
    expect(second.presentedCertificateValid).toBe(true);
    const hello = controlValue(second.hello);
    expect(hello['device_ca_public']).toBe(bytesToHex(gateway.ca.publicKey));
    expect(hello['user']).toEqual({ handle: 'dora', id: 'user-dora' });
  });

  it.each([
    ['another CA signed it', { foreignCa: true, deviceId: undefined }],
    ['it names another device', { foreignCa: false, deviceId: 'device-someone-else' }],
  ])('does not store an Ack certificate when %s', async (_label, variant) => {
    const stranger = DeviceKeyPair.generate();
    const gateway: TestGateway = await startGateway({
      ackOverrides: (connection) => {
        const now = Math.floor(Date.now() / 1000);
        const hello = controlValue(connection.hello);
        const signer = variant.foreignCa ? stranger : gateway.ca;
        const forged = signCertificate(
          {
            serial: 1n,
            userId: connection.userId,
            deviceId: variant.deviceId ?? (hello['device_id'] as string),
            publicKey: Buffer.from(hello['device_public'] as string, 'hex'),
            issuer: signer.publicKey,
            issuedAt: now,
            expiresAt: now + 1000,
          },
          signer.privateKey,
        );
        return { device_certificate: certificateToJson(forged) };
      },
    });
    const identity = createDeviceIdentity();
    const connection = await connect(gateway, identity);
    expect(connection.certificateStored).toBe(false);
    expect(identity.certificate).toBeUndefined();
    expect(identity.deviceCaPublic).toBeUndefined();
  });

  it('refuses to connect with an expired stored certificate, as the real client does', async () => {
    const gateway = await startGateway();
    const identity = createDeviceIdentity();
    const ca = DeviceKeyPair.generate();
    identity.deviceCaPublic = ca.publicKey;
    identity.certificate = signCertificate(
      {
        serial: 5n,
        userId: 'u',
        deviceId: identity.deviceId,
        publicKey: identity.keys.publicKey,
        issuer: ca.publicKey,
        issuedAt: 1_000,
        expiresAt: 2_000,
      },
      ca.privateKey,
    );
    expect(verifyCertificate(identity.certificate, ca.publicKey)).toBe(true);
    await expect(connectClient(clientOptions(gateway, identity))).rejects.toMatchObject({ code: 'InvalidCertificate' });
    expect(gateway.connections).toHaveLength(0);
  });
});

describe('noise transport', () => {
  it('asks with the capability, switches after the Ack (even mid-chunk) and wraps frames both ways', async () => {
    const drained = controlFrame(FrameType.Presence, 0, 1, { entity: 'x', state: 'online' });
    const gateway = await startGateway({ afterAck: () => [drained, controlFrame(FrameType.Typing, 4, 2, { typing: true })] });
    const connection = await connect(gateway, createDeviceIdentity({ handle: 'eve' }), { noiseTransport: true });
    const server = gateway.connections[0]!;
    expect(controlValue(server.hello)['capabilities']).toEqual(['noise', 'zstd', 'noise-transport']);
    expect(connection.encrypted).toBe(true);
    expect(connection.ack['transport_encryption']).toBe('noise');

    // Both frames came in the Ack's own write, encrypted: the reader switched between frames.
    expect(await connection.nextFrame()).toEqual(drained);
    expect(await connection.nextFrame()).toMatchObject({ type: FrameType.Typing, channel: 4 });

    connection.sendOpaque(FrameType.Msg, 4, Buffer.from('secret text'));
    expect(controlValue(await connection.nextFrame())).toEqual({ ack: 3 });
    await gateway.waitFor(() => server.received.length === 1);
    expect(server.received[0]!.payload).toEqual({ kind: 'opaque', bytes: Buffer.from('secret text') });
    // On the wire the upstream bytes are a unit, not the plain frame.
    const wire = Buffer.concat(server.receivedChunks);
    expect(wire.includes(Buffer.from('secret text'))).toBe(false);
  });

  it('stays plaintext when the Ack does not announce the switch', async () => {
    const gateway = await startGateway({ supportNoiseTransport: false });
    const connection = await connect(gateway, createDeviceIdentity(), { capabilities: ['noise', 'zstd', 'noise-transport'] });
    expect(connection.encrypted).toBe(false);
    connection.sendOpaque(FrameType.Msg, 1, Buffer.from('plain'));
    expect(controlValue(await connection.nextFrame())).toEqual({ ack: 3 });
    expect(Buffer.concat(gateway.connections[0]!.receivedChunks).includes(Buffer.from('plain'))).toBe(true);
  });

  it('fails the handshake when the server encrypts without being asked', async () => {
    const gateway = await startGateway({ ackOverrides: () => ({ transport_encryption: 'noise' }) });
    await expect(connectClient(clientOptions(gateway, createDeviceIdentity()))).rejects.toMatchObject({ code: 'Protocol' });
  });
});

describe('after the handshake', () => {
  it('reports undecodable bytes, drops its buffer like the real client and keeps reading', async () => {
    const gateway = await startGateway();
    const connection = await connect(gateway, createDeviceIdentity());
    const server = gateway.connections[0]!;
    // One write: a frame with type byte 0x7f (InvalidFrameType), then a valid frame that the real
    // client loses because it clears its whole buffer on a decode error.
    server.sendRaw(Buffer.concat([Buffer.from([0x02, 0x7f, 0x00]), encodeFrame(controlFrame(FrameType.Presence, 0, 1, { state: 'lost' }))]));
    await expect(connection.nextFrame()).rejects.toMatchObject({ code: 'Protocol', message: 'decode error: InvalidFrameType' });
    connection.sendControl(FrameType.Join, 3, { members: [], relay: false });
    expect(controlValue(await connection.nextFrame())).toEqual({ ack: 3 });
  });

  it('decodes like the real client with dialect 1.0.41 (TransportUpdate is unknown)', async () => {
    const gateway = await startGateway();
    const connection = await connect(gateway, createDeviceIdentity(), { dialect: '1.0.41' });
    gateway.connections[0]!.send(controlFrame(FrameType.TransportUpdate, 0, 1, {}));
    await expect(connection.nextFrame()).rejects.toMatchObject({ message: 'decode error: InvalidFrameType' });
  });

  it('close() ends the request with END_STREAM (the server may still answer) and settles closed with "local close"', async () => {
    const farewell = controlFrame(FrameType.Presence, 0, 1, { state: 'offline' });
    const gateway = await startGateway({ farewellOnEnd: farewell });
    const connection = await connect(gateway, createDeviceIdentity());
    await connection.close();
    const server = gateway.connections[0]!;
    await gateway.waitFor(() => server.closed);
    expect(server.requestEnded).toBe(true);
    expect(server.aborted).toBe(false);
    expect(await connection.closed).toEqual({ reason: 'local close' });
    expect(connection.isClosed).toBe(true);
    // A half-closed stream still carries the server's last words; a reset would have lost them.
    expect(await connection.nextFrame()).toEqual(farewell);
    expect(() => connection.sendControl(FrameType.Join, 1, {})).toThrow(ConnectionClosedError);
  });

  it('ends frames() and rejects nextFrame when the server closes', async () => {
    const gateway = await startGateway();
    const connection = await connect(gateway, createDeviceIdentity());
    const server = gateway.connections[0]!;
    server.send(controlFrame(FrameType.Presence, 0, 1, { state: 'online' }));
    server.end();
    const seen: Frame[] = [];
    for await (const frame of connection.frames()) seen.push(frame);
    expect(seen).toHaveLength(1);
    expect(await connection.closed).toEqual({ reason: 'remote closed' });
    await expect(connection.nextFrame()).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('times out nextFrame when nothing arrives', async () => {
    const gateway = await startGateway();
    const connection = await connect(gateway, createDeviceIdentity());
    await expect(connection.nextFrame(50)).rejects.toMatchObject({ code: 'Timeout' });
  });
});

describe('shared HTTP/2 session', () => {
  it('runs many /connect streams over one TLS connection', async () => {
    const gateway = await startGateway();
    const session = http2.connect(gateway.url, { rejectUnauthorized: false });
    session.on('error', () => {});
    try {
      const opened = await Promise.all(
        Array.from({ length: 6 }, (_, i) => connect(gateway, createDeviceIdentity({ handle: `user${i}` }), { session })),
      );
      expect(gateway.tlsConnections).toBe(1);
      expect(gateway.connections).toHaveLength(6);
      expect(new Set(opened.map((connection) => connection.session)).size).toBe(6);
      // Each stream carries its own traffic.
      opened.forEach((connection, i) => connection.sendControl(FrameType.Join, 100 + i, { members: [], relay: false }));
      const acks = await Promise.all(opened.map((connection) => connection.nextFrame()));
      expect(acks.map((frame) => frame.channel)).toEqual([100, 101, 102, 103, 104, 105]);
      await Promise.all(opened.map((connection) => connection.close()));
      // Closing the streams leaves the shared session usable.
      expect(session.closed).toBe(false);
      const again = await connect(gateway, createDeviceIdentity(), { session });
      expect(again.ack['handshake']).toBe('ok');
      expect(gateway.tlsConnections).toBe(1);
    } finally {
      await Promise.all(connections.splice(0).map((connection) => connection.close()));
      session.close();
    }
  });
});
