import { randomBytes } from 'node:crypto';
import {
  DeviceKeyPair,
  ed25519SecretScalar,
  proveZkp,
  verifyZkp,
  x25519PublicKey,
  zkpFromJson,
  zkpHandshakeContext,
  zkpToJson,
  type ZkpProof,
} from '@commucat/crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { zkpChallenge } from '../src/zkp/challenge';
import { baseTimesMinusPointTimes } from '../src/zkp/double-scalar';
import { expectCryptoError } from './support/expect-crypto-error';

const Point = ed25519.Point;
const L = ed25519.Point.Fn.ORDER;
const P = 2n ** 255n - 19n;
const A = DeviceKeyPair.fromSeed(Buffer.from('seed-seed-seed-seed-seed-seed-seed-seed'));
const ONES = Buffer.alloc(32, 1);
const counting64 = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
const le = (bytes: Uint8Array) => BigInt('0x' + (Buffer.from(bytes).reverse().toString('hex') || '0'));
const toLe = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex').reverse();

const CONTEXT_01 =
  '636f6d6d756361743a7a6b703a68616e647368616b653a76310b0000006578616d706c652e6f7267080000006465766963652d31244cb75cb1c0d93df56dad7477c082354d40d13afe48509ddaa5cfa79134550d' +
  '01'.repeat(32);
const COMMITMENT_02 = 'f9302fcb3a2937cff4950e4c6272340e171b0a65ed680d8fca72087ab4da078d';
const RESPONSE_02 = 'ce62bde0f89fc5c94cdd81721e944044ce09737b6ea530ce4df528b8a134d70b';


describe('ZKP vectors (§5, §9.2)', () => {
  const context = zkpHandshakeContext('example.org', 'device-1', A.publicKey, ONES);
  const proof = proveZkp(A, context, counting64);

  it('TV-ZKP-01: handshake context', () => {
    expect(context.length).toBe(116);
    expect(context.toString('hex')).toBe(CONTEXT_01);
  });

  it('TV-ZKP-02: proof with the counting rng, plus its challenge', () => {
    expect(proof.commitment.toString('hex')).toBe(COMMITMENT_02);
    expect(proof.response.toString('hex')).toBe(RESPONSE_02);
    const challenge = zkpChallenge(context, A.publicKey, proof.commitment);
    expect(toLe(challenge).toString('hex')).toBe('6a4c1fd82d6599cd9442ea5c0b1d2b88a08f047155ec9b461bf87eb43a865109');
    const nonce = le(counting64(64)) % L;
    expect(toLe(nonce).toString('hex')).toMatch(/^7a3c6282.*7205$/);
  });

  it('TV-ZKP-03: JSON form', () => {
    expect(JSON.stringify(zkpToJson(proof))).toBe(`{"commitment":"${COMMITMENT_02}","response":"${RESPONSE_02}"}`);
  });

  it('TV-ZKP-04: the proof verifies, and each tampering is rejected', () => {
    expect(verifyZkp(A.publicKey, context, proof)).toBe(true);

    const flipped = Buffer.from(proof.response);
    flipped[0]! ^= 1;
    expect(verifyZkp(A.publicKey, context, { commitment: proof.commitment, response: flipped })).toBe(false);

    const plusL = toLe(le(proof.response) + L);
    expect(verifyZkp(A.publicKey, context, { commitment: proof.commitment, response: plusL })).toBe(false);

    const notAPoint = firstNonPointEncoding();
    expect(verifyZkp(A.publicKey, context, { commitment: notAPoint, response: proof.response })).toBe(false);

    const otherDomain = zkpHandshakeContext('example.com', 'device-1', A.publicKey, ONES);
    expect(verifyZkp(A.publicKey, otherDomain, proof)).toBe(false);

    const otherStatic = zkpHandshakeContext('example.org', 'device-1', A.publicKey, Buffer.alloc(32, 2));
    expect(verifyZkp(A.publicKey, otherStatic, proof)).toBe(false);
  });

  it('TV-ZKP-05: binding to the client X25519 static key', () => {
    const clientStatic = x25519PublicKey(A.privateKey);
    const bound = zkpHandshakeContext('example.org', 'device-1', A.publicKey, clientStatic);
    expect(bound.subarray(84).toString('hex')).toBe('0d474a0c095793efebcb2c7b786dfbead98faa2a5a6af49aba8d9425c28e201d');
    const boundProof = proveZkp(A, bound, counting64);
    expect(boundProof.commitment.toString('hex')).toBe(COMMITMENT_02); // same nonce, same R
    expect(verifyZkp(A.publicKey, bound, boundProof)).toBe(true);
    expect(verifyZkp(A.publicKey, context, boundProof)).toBe(false);
  });
});

/** A 32-byte string that no curve point decodes from (checked with noble's own decoder). */
function firstNonPointEncoding(): Buffer {
  for (let y = 2n; ; y++) {
    const bytes = toLe(y);
    try {
      Point.fromBytes(bytes, true);
    } catch {
      return bytes;
    }
  }
}

describe('ZKP round trips and rejections', () => {
  it('100 random prove/verify round trips; each proof fails for another device', () => {
    const other = DeviceKeyPair.generate();
    for (let i = 0; i < 100; i++) {
      const keys = DeviceKeyPair.generate();
      const context = zkpHandshakeContext('commucat.example', `device-${i}`, keys.publicKey, randomBytes(32));
      const proof = proveZkp(keys, context);
      expect(verifyZkp(keys.publicKey, context, proof)).toBe(true);
      if (i % 10 === 0) expect(verifyZkp(other.publicKey, context, proof)).toBe(false);
    }
  });

  it('rejects wrong lengths, a non-point device key and a tampered commitment without throwing', () => {
    const context = zkpHandshakeContext('d', 'x', A.publicKey, ONES);
    const proof = proveZkp(A, context);
    expect(verifyZkp(A.publicKey.subarray(1), context, proof)).toBe(false);
    expect(verifyZkp(A.publicKey, context, { commitment: proof.commitment.subarray(1), response: proof.response })).toBe(false);
    expect(verifyZkp(A.publicKey, context, { commitment: proof.commitment, response: Buffer.alloc(33) })).toBe(false);
    expect(verifyZkp(firstNonPointEncoding(), context, proof)).toBe(false);
    expect(verifyZkp(A.publicKey, context, null as unknown as ZkpProof)).toBe(false);
    const commitment = Buffer.from(proof.commitment);
    commitment[5]! ^= 4;
    expect(verifyZkp(A.publicKey, context, { commitment, response: proof.response })).toBe(false);
  });

  it('decodes the commitment leniently like dalek: non-canonical identity encodings are accepted', () => {
    // With R = identity the equation is s·B = c·A, i.e. s = c·x: forge such proofs for each encoding.
    const context = zkpHandshakeContext('example.org', 'device-1', A.publicKey, ONES);
    const secret = le(ed25519SecretScalar(A.privateKey));
    const withSign = (value: bigint) => {
      const bytes = toLe(value);
      bytes[31]! |= 0x80;
      return bytes;
    };
    for (const commitment of [toLe(1n), toLe(P + 1n), withSign(1n), withSign(P + 1n)]) {
      const c = zkpChallenge(context, A.publicKey, commitment);
      const proof: ZkpProof = { commitment, response: toLe((c * secret) % L) };
      expect(verifyZkp(A.publicKey, context, proof)).toBe(true);
      expect(verifyZkp(A.publicKey, context, { commitment, response: toLe((c * secret + 1n) % L) })).toBe(false);
    }
  });

  it('the double-scalar multiplication equals noble’s separate multiplications', () => {
    const scalars = [0n, 1n, 2n, 15n, 16n, 127n, 128n, L - 1n, L - 2n, 2n ** 252n];
    for (let i = 0; i < 10; i++) scalars.push(le(randomBytes(32)) % L);
    const point = Point.fromBytes(A.publicKey);
    for (const s of scalars) {
      const c = scalars[(scalars.indexOf(s) * 7 + 3) % scalars.length]!;
      const expected = Point.BASE.multiplyUnsafe(s).subtract(point.multiplyUnsafe(c));
      expect(baseTimesMinusPointTimes(s, point, c).equals(expected)).toBe(true);
    }
  });

  it('proving refuses a key pair whose public key does not match', () => {
    const forged = Object.create(Object.getPrototypeOf(A), {
      privateKey: { value: A.privateKey },
      publicKey: { value: DeviceKeyPair.generate().publicKey },
    }) as DeviceKeyPair;
    expectCryptoError(() => proveZkp(forged, Buffer.alloc(0)), 'InvalidKey');
  });
});

describe('ZKP JSON parsing', () => {
  it('accepts either case, ignores extra keys, returns bytes', () => {
    const parsed = zkpFromJson({ commitment: COMMITMENT_02.toUpperCase(), response: RESPONSE_02, extra: 1 });
    expect(parsed.commitment.toString('hex')).toBe(COMMITMENT_02);
    expect(parsed.response.toString('hex')).toBe(RESPONSE_02);
  });

  it.each([
    ['null', null],
    ['array', [COMMITMENT_02, RESPONSE_02]],
    ['missing response', { commitment: COMMITMENT_02 }],
    ['short commitment', { commitment: COMMITMENT_02.slice(2), response: RESPONSE_02 }],
    ['long response', { commitment: COMMITMENT_02, response: RESPONSE_02 + '00' }],
    ['non-hex', { commitment: 'g' + COMMITMENT_02.slice(1), response: RESPONSE_02 }],
    ['number', { commitment: 1, response: RESPONSE_02 }],
  ])('rejects %s with InvalidProof', (_name, value) => {
    expectCryptoError(() => zkpFromJson(value), 'InvalidProof');
  });
});
