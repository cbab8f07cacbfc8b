/**
 * @commucat/crypto throughput on one core: XK and IK responder handshakes (the gateway's side),
 * ZKP verify/prove, certificate sign/verify. One JSON line per figure on stdout.
 */
import {
  DeviceKeyPair,
  NoiseHandshake,
  NoiseStaticKey,
  proveZkp,
  signCertificate,
  verifyCertificate,
  verifyZkp,
  zkpHandshakeContext,
  type NoisePattern,
} from '@commucat/crypto';
import { reporter } from './support/output';

const BENCH = 'crypto';
const prologue = Buffer.from('commucat');
// A realistic msg2 payload (TV-NOISE-02).
const msg2Payload = Buffer.from(
  '{"domain":"example.org","protocol_version":1,"session":"sess-1","user":{"avatar_url":null,"display_name":null,"handle":"alice","id":"user-1","user_id":"user-1"},"user_id":"user-1"}',
);

const report = reporter(BENCH, 0);

function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Runs `operation` `count` times and returns operations per second. */
function rate(count: number, operation: (i: number) => void): number {
  const start = nowNs();
  for (let i = 0; i < count; i++) operation(i);
  return count / (Number(nowNs() - start) / 1e9);
}

// The machine is shared: every figure is the median of three timed rounds.
const ROUNDS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function medianRate(count: number, operation: (i: number) => void): number {
  return median(Array.from({ length: ROUNDS }, () => rate(count, operation)));
}

/**
 * Responder handshakes/s. The initiator's messages depend on the responder's (msg3 needs msg2),
 * so they cannot all be built ahead of time without replaying fixed ephemerals, which would skip
 * the responder's real key generation. Instead both sides run interleaved with fresh random
 * ephemerals, and the clock runs only around the responder's own calls (constructor + every
 * read/write + split); the initiator's work happens between the timed sections.
 */
function responderHandshakesPerSecond(pattern: NoisePattern, count: number): { responder: number; pairs: number } {
  const serverKey = NoiseStaticKey.generate();
  const clientKeys = Array.from({ length: 32 }, () => NoiseStaticKey.generate());
  let responderNs = 0n;
  const wallStart = nowNs();
  for (let i = 0; i < count; i++) {
    const initiator = new NoiseHandshake({
      pattern,
      initiator: true,
      prologue,
      staticKey: clientKeys[i % clientKeys.length]!,
      remoteStatic: serverKey.publicKey,
    });
    const msg1 = initiator.writeMessage();

    let start = nowNs();
    const responder = new NoiseHandshake({ pattern, initiator: false, prologue, staticKey: serverKey });
    responder.readMessage(msg1);
    const msg2 = responder.writeMessage(msg2Payload);
    if (pattern === 'IK') responder.split();
    responderNs += nowNs() - start;

    initiator.readMessage(msg2);
    if (pattern === 'XK') {
      const msg3 = initiator.writeMessage();
      start = nowNs();
      responder.readMessage(msg3);
      responder.split();
      responderNs += nowNs() - start;
    }
    initiator.split();
  }
  const wallSeconds = Number(nowNs() - wallStart) / 1e9;
  return { responder: count / (Number(responderNs) / 1e9), pairs: count / wallSeconds };
}

function benchNoise(): void {
  for (const pattern of ['XK', 'IK'] as const) {
    responderHandshakesPerSecond(pattern, 200); // warm-up
    const rounds = Array.from({ length: ROUNDS }, () => responderHandshakesPerSecond(pattern, 1000));
    report(`${pattern.toLowerCase()}_responder_handshakes_per_s`, median(rounds.map((r) => r.responder)), 'handshakes/s');
    report(`${pattern.toLowerCase()}_handshakes_both_sides_per_s`, median(rounds.map((r) => r.pairs)), 'handshakes/s');
  }
}

function benchZkp(): void {
  const devices = Array.from({ length: 16 }, () => DeviceKeyPair.generate());
  const contexts = devices.map((d, i) => zkpHandshakeContext('example.org', `device-${i}`, d.publicKey, Buffer.alloc(32, i)));
  const proofs = devices.map((d, i) => proveZkp(d, contexts[i]!));
  const verify = (i: number) => {
    const k = i % devices.length;
    if (!verifyZkp(devices[k]!.publicKey, contexts[k]!, proofs[k]!)) throw new Error('ZKP verify failed');
  };
  rate(50, verify);
  report('zkp_verify_per_s', medianRate(300, verify), 'ops/s');
  const prove = (i: number) => {
    const k = i % devices.length;
    proveZkp(devices[k]!, contexts[k]!);
  };
  rate(30, prove);
  report('zkp_prove_per_s', medianRate(300, prove), 'ops/s');
}

function benchCertificates(): void {
  const ca = DeviceKeyPair.generate();
  const device = DeviceKeyPair.generate();
  const data = (i: number) => ({
    serial: 18446744073709551615n - BigInt(i),
    userId: 'user-1',
    deviceId: `device-${i}`,
    publicKey: device.publicKey,
    issuer: ca.publicKey,
    issuedAt: 1_700_000_000,
    expiresAt: 1_702_592_000,
  });
  rate(200, (i) => signCertificate(data(i), ca.privateKey));
  report('certificate_sign_per_s', medianRate(2000, (i) => signCertificate(data(i), ca.privateKey)), 'ops/s');
  const certificates = Array.from({ length: 64 }, (_, i) => signCertificate(data(i), ca.privateKey));
  const verify = (i: number) => {
    if (!verifyCertificate(certificates[i % certificates.length]!, ca.publicKey)) throw new Error('certificate verify failed');
  };
  rate(200, verify);
  report('certificate_verify_per_s', medianRate(1500, verify), 'ops/s');
}

benchNoise();
benchZkp();
benchCertificates();
