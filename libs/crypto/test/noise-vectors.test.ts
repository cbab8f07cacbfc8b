import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NoiseHandshake, NoiseStaticKey, type NoisePatternName, type NoiseHandshakeOptions } from '@commucat/crypto';

// Copies of /work/shared/vectors (cacophony and snow suites for 25519/ChaChaPoly/BLAKE2s).
interface NoiseVector {
  protocol_name: string;
  init_prologue: string;
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_static?: string;
  resp_ephemeral: string;
  resp_remote_static?: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

function loadVectors(file: string): NoiseVector[] {
  return (JSON.parse(readFileSync(join(__dirname, 'vectors', file), 'utf8')) as { vectors: NoiseVector[] }).vectors;
}

const hex = (value: string) => Buffer.from(value, 'hex');

function side(vector: NoiseVector, initiator: boolean): NoiseHandshake {
  const pattern = /^Noise_([A-Z]+)_25519_ChaChaPoly_BLAKE2s$/.exec(vector.protocol_name)![1] as NoisePatternName;
  const prefix = initiator ? 'init' : 'resp';
  const staticHex = vector[`${prefix}_static`];
  const remoteHex = vector[`${prefix}_remote_static`];
  const options = {
    pattern,
    initiator,
    prologue: hex(vector[`${prefix}_prologue`]),
    fixedEphemeral: hex(vector[`${prefix}_ephemeral`]),
    ...(staticHex === undefined ? {} : { staticKey: NoiseStaticKey.fromPrivate(hex(staticHex)) }),
    ...(remoteHex === undefined ? {} : { remoteStatic: hex(remoteHex) }),
  } as NoiseHandshakeOptions;
  return new NoiseHandshake(options);
}

/** Replays a vector: every message is written by its sender, compared, then read by its receiver. */
function replay(vector: NoiseVector): void {
  const initiator = side(vector, true);
  const responder = side(vector, false);
  let index = 0;
  for (; !initiator.isFinished; index++) {
    const [writer, reader] = index % 2 === 0 ? [initiator, responder] : [responder, initiator];
    const { payload, ciphertext } = vector.messages[index]!;
    expect(writer.writeMessage(hex(payload)).toString('hex')).toBe(ciphertext);
    expect(reader.readMessage(hex(ciphertext)).toString('hex')).toBe(payload);
  }
  expect(responder.isFinished).toBe(true);
  expect(initiator.handshakeHash.equals(responder.handshakeHash)).toBe(true);
  if (vector.handshake_hash !== undefined) expect(initiator.handshakeHash.toString('hex')).toBe(vector.handshake_hash);
  expect(vector.messages.length).toBeGreaterThan(index); // every vector carries transport messages too

  const initiatorTransport = initiator.split();
  const responderTransport = responder.split();
  for (; index < vector.messages.length; index++) {
    const [writer, reader] = index % 2 === 0 ? [initiatorTransport, responderTransport] : [responderTransport, initiatorTransport];
    const { payload, ciphertext } = vector.messages[index]!;
    expect(writer.encrypt(hex(payload)).toString('hex')).toBe(ciphertext);
    expect(reader.decrypt(hex(ciphertext)).toString('hex')).toBe(payload);
  }
}

describe.each([
  ['cacophony', 'noise-cacophony-25519-chachapoly-blake2s.json'],
  ['snow', 'noise-snow-25519-chachapoly-blake2s.json'],
])('%s vectors', (_suite, file) => {
  const vectors = loadVectors(file);

  it('include XK and IK', () => {
    const names = vectors.map((v) => v.protocol_name);
    expect(names).toContain('Noise_XK_25519_ChaChaPoly_BLAKE2s');
    expect(names).toContain('Noise_IK_25519_ChaChaPoly_BLAKE2s');
  });

  it.each(vectors.map((v) => [v.protocol_name, v] as const))('%s', (_name, vector) => {
    replay(vector);
  });
});
