import { NoiseError, NoiseHandshake, NoiseStaticKey, type NoisePattern, type NoiseTransport } from '@commucat/crypto';

const hex = (value: string) => Buffer.from(value, 'hex');
const prologue = Buffer.from('commucat');

// §9.4 keys: server static [0x11;32]; client static = A.private (TV-CRYPTO-01); ephemerals [0x22;32] / [0x33;32].
const serverStatic = NoiseStaticKey.fromPrivate(Buffer.alloc(32, 0x11));
const clientStatic = NoiseStaticKey.fromPrivate(hex('c926cf5b192545bf31e2e27fe648163774cfcb03730d99492683cd849f87a96a'));
const clientEphemeral = Buffer.alloc(32, 0x22);
const serverEphemeral = Buffer.alloc(32, 0x33);

const MSG1 = '0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f203c1b7403e56ce1652c876d01abaa05e0';
const MSG2_PAYLOAD =
  '{"domain":"example.org","protocol_version":1,"session":"sess-1","user":{"avatar_url":null,"display_name":null,"handle":"alice","id":"user-1","user_id":"user-1"},"user_id":"user-1"}';
const MSG2 =
  '7b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14d80a858cb8842e669e00d80c22832bf73669bdc8385bc22ed488472ec6ce3fe2902716c0d94db451385f858e40e735953288eb7e77802f106361059da2e6486cdd04c703817acbbd3111db01bb64aae374a31002d85029cbf3dfaed7e688d69defd9cef71f94a9a5cd2c6fa9a06b374bb3c94db1879b86f2f28665c6e42dd958d5e667e6be5dd618409ca2b70d8a816d62e58541603974afcd1bfbba0edcd4a56316e8c601a5c3dc556e96c33b249a8208593b018a737caf9f409650d79f4824b186fe78';
const MSG3 = 'fc1ba47015ac6ea0eb81cec7aadd3e0c2d695621693e7ab5d2ee493bc66a98df13cc4f2c5eaf69b00464edda45279e57cd4ec03cbd9b831c9f9f2a54967b9ea9';
const HANDSHAKE_HASH = '1aaeaa46ac398e15af61c405589677c9cb62574db6f8c7fd01a1654db137da67';
const JOIN_FRAME = '2a030703267b226d656d62657273223a5b226465766963652d31225d2c2272656c6179223a66616c73657d'; // TV-CODEC-05
const JOIN_CIPHERTEXT = '5bc91ada85fa292c3e16bbd7f988ffdde9531bf3c560f93390d8907b680d54c89ef80aa362a1a5e6e62802dca564caf0115e8b641ce710367786a4';
const ACK_FRAME = '16060002127b2268616e647368616b65223a226f6b227d';
const ACK_CIPHERTEXT = '3fde79170953e260ad9781be1ed8bc501253169b866d547e966db42a23fa6f6aadfe3adba9f694';

function fixedClient(): NoiseHandshake {
  return new NoiseHandshake({
    pattern: 'XK',
    initiator: true,
    prologue,
    staticKey: clientStatic,
    remoteStatic: serverStatic.publicKey,
    fixedEphemeral: clientEphemeral,
  });
}

function fixedServer(staticKey = serverStatic): NoiseHandshake {
  return new NoiseHandshake({ pattern: 'XK', initiator: false, prologue, staticKey, fixedEphemeral: serverEphemeral });
}

function expectNoiseError(action: () => unknown, code: NoiseError['code']): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(NoiseError);
  expect((thrown as NoiseError).code).toBe(code);
}

describe('CommuCat XK vectors (§9.4)', () => {
  it('static keys match TV-CRYPTO-05/06', () => {
    expect(serverStatic.publicKey.toString('hex')).toBe('7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13');
    expect(clientStatic.publicKey.toString('hex')).toBe('0d474a0c095793efebcb2c7b786dfbead98faa2a5a6af49aba8d9425c28e201d');
  });

  it('TV-NOISE-01..06: both sides reproduce every byte', () => {
    const client = fixedClient();
    const server = fixedServer();

    const msg1 = client.writeMessage();
    expect(msg1.toString('hex')).toBe(MSG1); // TV-NOISE-01
    expect(msg1.length).toBe(48);
    expect(server.readMessage(msg1).length).toBe(0);

    const msg2 = server.writeMessage(Buffer.from(MSG2_PAYLOAD));
    expect(msg2.toString('hex')).toBe(MSG2); // TV-NOISE-02
    expect(msg2.length).toBe(228);
    expect(msg2.subarray(0, 32).toString('hex')).toBe('7b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14');
    expect(client.readMessage(msg2).toString()).toBe(MSG2_PAYLOAD);

    const msg3 = client.writeMessage();
    expect(msg3.toString('hex')).toBe(MSG3); // TV-NOISE-03
    expect(server.readMessage(msg3).length).toBe(0);
    expect(server.remoteStatic?.equals(clientStatic.publicKey)).toBe(true);

    expect(client.isFinished && server.isFinished).toBe(true);
    expect(client.handshakeHash.toString('hex')).toBe(HANDSHAKE_HASH); // TV-NOISE-04
    expect(server.handshakeHash.toString('hex')).toBe(HANDSHAKE_HASH);

    const clientTransport = client.split();
    const serverTransport = server.split();
    const join = clientTransport.encrypt(hex(JOIN_FRAME));
    expect(join.toString('hex')).toBe(JOIN_CIPHERTEXT); // TV-NOISE-05
    expect(join.length).toBe(0x3b);
    expect(serverTransport.decrypt(join).toString('hex')).toBe(JOIN_FRAME);
    const ack = serverTransport.encrypt(hex(ACK_FRAME));
    expect(ack.toString('hex')).toBe(ACK_CIPHERTEXT); // TV-NOISE-06
    expect(clientTransport.decrypt(ack).toString('hex')).toBe(ACK_FRAME);
  });

  it('TV-NOISE-01..03 read on the server side from the recorded bytes', () => {
    const server = fixedServer();
    server.readMessage(hex(MSG1));
    expect(server.writeMessage(Buffer.from(MSG2_PAYLOAD)).toString('hex')).toBe(MSG2);
    server.readMessage(hex(MSG3));
    expect(server.remoteStatic?.toString('hex')).toBe(clientStatic.publicKey.toString('hex'));
    expect(server.split().decrypt(hex(JOIN_CIPHERTEXT)).toString('hex')).toBe(JOIN_FRAME);
  });

  it('TV-NOISE-08: msg1 fails against a wrong server key and succeeds against the right one', () => {
    const msg1 = hex(MSG1);
    const wrong = fixedServer(NoiseStaticKey.fromPrivate(Buffer.alloc(32, 0x44)));
    expectNoiseError(() => wrong.readMessage(msg1), 'DecryptFailed');
    const right = fixedServer();
    expect(right.readMessage(msg1).length).toBe(0);
  });

  it('TV-NOISE-10: a 65 520-byte transport plaintext is refused, 65 519 is fine', () => {
    const { initiator, responder } = handshake('XK');
    expectNoiseError(() => initiator.encrypt(Buffer.alloc(65_520)), 'MessageTooLarge');
    const largest = initiator.encrypt(Buffer.alloc(65_519, 7));
    expect(largest.length).toBe(65_535);
    expect(responder.decrypt(largest).equals(Buffer.alloc(65_519, 7))).toBe(true);
    expectNoiseError(() => responder.decrypt(Buffer.alloc(65_536)), 'MessageTooLarge');
  });
});

/** Runs a full handshake with random keys; returns the transports and the handshake objects. */
function handshake(pattern: NoisePattern) {
  const server = NoiseStaticKey.generate();
  const client = NoiseStaticKey.generate();
  const initiator = new NoiseHandshake({ pattern, initiator: true, prologue, staticKey: client, remoteStatic: server.publicKey });
  const responder = new NoiseHandshake({ pattern, initiator: false, prologue, staticKey: server });
  const payloads: Buffer[] = [];
  let writer = initiator;
  let reader = responder;
  for (let i = 0; !initiator.isFinished; i++) {
    const payload = Buffer.from(`payload ${i}`);
    payloads.push(reader.readMessage(writer.writeMessage(payload)));
    expect(payloads[i]!.toString()).toBe(`payload ${i}`);
    [writer, reader] = [reader, writer];
  }
  expect(responder.isFinished).toBe(true);
  return {
    initiatorHandshake: initiator,
    responderHandshake: responder,
    clientKey: client,
    serverKey: server,
    initiator: initiator.split(),
    responder: responder.split(),
  };
}

function exchange(a: NoiseTransport, b: NoiseTransport, count: number): void {
  for (let i = 0; i < count; i++) {
    const message = Buffer.from(`message ${i}`);
    expect(b.decrypt(a.encrypt(message)).equals(message)).toBe(true);
    expect(a.decrypt(b.encrypt(message)).equals(message)).toBe(true);
  }
}

describe.each<NoisePattern>(['XK', 'IK'])('%s interactive', (pattern) => {
  it('completes with random keys; the responder learns the initiator static key', () => {
    const result = handshake(pattern);
    expect(result.responderHandshake.remoteStatic?.equals(result.clientKey.publicKey)).toBe(true);
    expect(result.initiatorHandshake.remoteStatic?.equals(result.serverKey.publicKey)).toBe(true);
    expect(result.initiatorHandshake.handshakeHash.equals(result.responderHandshake.handshakeHash)).toBe(true);
    exchange(result.initiator, result.responder, 5);
    expect(result.initiator.sendingNonce).toBe(5);
    expect(result.responder.receivingNonce).toBe(5);
  });

  it('message sizes with empty payloads match §3.3/§3.4', () => {
    const server = NoiseStaticKey.generate();
    const initiator = new NoiseHandshake({ pattern, initiator: true, prologue, staticKey: NoiseStaticKey.generate(), remoteStatic: server.publicKey });
    const responder = new NoiseHandshake({ pattern, initiator: false, prologue, staticKey: server });
    const sizes: number[] = [];
    let [writer, reader] = [initiator, responder];
    while (!initiator.isFinished) {
      const message = writer.writeMessage();
      sizes.push(message.length);
      reader.readMessage(message);
      [writer, reader] = [reader, writer];
    }
    expect(sizes).toEqual(pattern === 'XK' ? [48, 48, 64] : [96, 48]);
  });

  it('a flipped transport ciphertext bit fails with DecryptFailed and leaves the counter alone', () => {
    const { initiator, responder } = handshake(pattern);
    const ciphertext = initiator.encrypt(Buffer.from('hello'));
    const tampered = Buffer.from(ciphertext);
    tampered[2]! ^= 0x01;
    expectNoiseError(() => responder.decrypt(tampered), 'DecryptFailed');
    expect(responder.decrypt(ciphertext).toString()).toBe('hello');
  });

  it('a flipped handshake bit fails the read and leaves the handshake unusable', () => {
    const server = NoiseStaticKey.generate();
    const initiator = new NoiseHandshake({ pattern, initiator: true, prologue, staticKey: NoiseStaticKey.generate(), remoteStatic: server.publicKey });
    const responder = new NoiseHandshake({ pattern, initiator: false, prologue, staticKey: server });
    const msg1 = initiator.writeMessage();
    const tampered = Buffer.from(msg1);
    tampered[msg1.length - 1]! ^= 0x80;
    expectNoiseError(() => responder.readMessage(tampered), 'DecryptFailed');
    expectNoiseError(() => responder.readMessage(msg1), 'InvalidState');
    expectNoiseError(() => responder.writeMessage(), 'InvalidState');
  });

  it('a different prologue fails the first read', () => {
    const server = NoiseStaticKey.generate();
    const initiator = new NoiseHandshake({ pattern, initiator: true, prologue, staticKey: NoiseStaticKey.generate(), remoteStatic: server.publicKey });
    const responder = new NoiseHandshake({ pattern, initiator: false, prologue: Buffer.from('commucat2'), staticKey: server });
    expectNoiseError(() => responder.readMessage(initiator.writeMessage()), 'DecryptFailed');
  });

  it('a responder told to expect a client static key refuses any other one', () => {
    const server = NoiseStaticKey.generate();
    const client = NoiseStaticKey.generate();
    // Runs the handshake until the responder has read the message carrying the client's `s`.
    const run = (expected: Buffer) => {
      const initiator = new NoiseHandshake({ pattern, initiator: true, prologue, staticKey: client, remoteStatic: server.publicKey });
      const responder = new NoiseHandshake({ pattern, initiator: false, prologue, staticKey: server, remoteStatic: expected });
      responder.readMessage(initiator.writeMessage());
      if (pattern === 'XK') {
        initiator.readMessage(responder.writeMessage());
        responder.readMessage(initiator.writeMessage());
      }
      return responder;
    };
    expect(run(client.publicKey).remoteStatic?.equals(client.publicKey)).toBe(true);
    expectNoiseError(() => run(NoiseStaticKey.generate().publicKey), 'InvalidKey');
  });

  it('enforces turn order, split timing and single split', () => {
    const server = NoiseStaticKey.generate();
    const initiator = new NoiseHandshake({ pattern, initiator: true, prologue, staticKey: NoiseStaticKey.generate(), remoteStatic: server.publicKey });
    const responder = new NoiseHandshake({ pattern, initiator: false, prologue, staticKey: server });
    expectNoiseError(() => responder.writeMessage(), 'InvalidState');
    expectNoiseError(() => initiator.split(), 'InvalidState');
    let [writer, reader] = [initiator, responder];
    while (!initiator.isFinished) {
      reader.readMessage(writer.writeMessage());
      [writer, reader] = [reader, writer];
    }
    responder.split();
    expectNoiseError(() => responder.split(), 'InvalidState');
  });
});

describe('handshake edge cases', () => {
  it('TV-NOISE-09: an IK initiator cannot write a third message', () => {
    const server = NoiseStaticKey.generate();
    const initiator = new NoiseHandshake({ pattern: 'IK', initiator: true, prologue, staticKey: clientStatic, remoteStatic: server.publicKey });
    const responder = new NoiseHandshake({ pattern: 'IK', initiator: false, prologue, staticKey: server });
    responder.readMessage(initiator.writeMessage());
    initiator.readMessage(responder.writeMessage());
    expect(initiator.isFinished).toBe(true);
    expectNoiseError(() => initiator.writeMessage(), 'InvalidState');
    expectNoiseError(() => responder.readMessage(Buffer.alloc(64)), 'InvalidState');
  });

  it('XK/IK initiators need the server key and a local static key', () => {
    expectNoiseError(() => new NoiseHandshake({ pattern: 'XK', initiator: true, prologue, staticKey: clientStatic }), 'InvalidKey');
    expectNoiseError(
      () => new NoiseHandshake({ pattern: 'IK', initiator: true, prologue, staticKey: clientStatic, remoteStatic: Buffer.alloc(31) }),
      'InvalidKey',
    );
    expectNoiseError(() => new NoiseHandshake({ pattern: 'XK', initiator: false, prologue } as never), 'InvalidKey');
    expectNoiseError(() => NoiseStaticKey.fromPrivate(Buffer.alloc(31)), 'InvalidKey');
  });

  it('a truncated msg1 is InvalidMessage; a low-order ephemeral is InvalidKey', () => {
    expectNoiseError(() => fixedServer().readMessage(hex(MSG1).subarray(0, 31)), 'InvalidMessage');
    expectNoiseError(() => fixedServer().readMessage(hex(MSG1).subarray(0, 40)), 'InvalidMessage');
    const lowOrder = Buffer.concat([Buffer.alloc(32), Buffer.alloc(16)]);
    expectNoiseError(() => fixedServer().readMessage(lowOrder), 'InvalidKey');
  });

  it('refuses handshake messages above 65 535 bytes', () => {
    expectNoiseError(() => fixedServer().readMessage(Buffer.alloc(65_536)), 'MessageTooLarge');
    const client = fixedClient();
    expectNoiseError(() => client.writeMessage(Buffer.alloc(65_535 - 48 + 1)), 'MessageTooLarge');
    const fits = fixedClient().writeMessage(Buffer.alloc(65_535 - 48));
    expect(fits.length).toBe(65_535);
    expect(fixedServer().readMessage(fits).length).toBe(65_535 - 48);
  });

  it('the server key object is reused across many handshakes', () => {
    for (let i = 0; i < 20; i++) {
      const client = NoiseStaticKey.generate();
      const initiator = new NoiseHandshake({ pattern: 'XK', initiator: true, prologue, staticKey: client, remoteStatic: serverStatic.publicKey });
      const responder = new NoiseHandshake({ pattern: 'XK', initiator: false, prologue, staticKey: serverStatic });
      responder.readMessage(initiator.writeMessage());
      initiator.readMessage(responder.writeMessage());
      responder.readMessage(initiator.writeMessage());
      expect(responder.remoteStatic?.equals(client.publicKey)).toBe(true);
    }
  });

  it('NoiseStaticKey.generate yields a key whose private half reproduces its public half', () => {
    const key = NoiseStaticKey.generate();
    expect(key.privateKey.length).toBe(32);
    expect(NoiseStaticKey.fromPrivate(key.privateKey).publicKey.equals(key.publicKey)).toBe(true);
  });
});
