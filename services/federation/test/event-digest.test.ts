import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { ed25519PublicKey, ed25519Verify, hexToBytes } from '@commucat/crypto';
import { retryDelayMs } from '../src/backoff';
import { FederationError } from '../src/errors';
import { createdAtNanos, eventDigest, type FederationEvent } from '../src/event-digest';
import { parseSignedEvent, serializeSignedEvent } from '../src/signed-event';
import { localSigner } from '../src/signer';

// TV-CRYPTO-07 (ccp1-wire §9): the key pair derived from the sample federation_seed.
const SAMPLE_SEED = hexToBytes('af27a91901dad2643dcd4743d79251d4a206e0a7884d18d88af03c13fde9d961');

describe('created_at nanoseconds', () => {
  it('keeps all nine fraction digits exactly', () => {
    expect(createdAtNanos('2024-01-02T03:04:05.123456789Z')).toBe(1704164645123456789n);
    expect(createdAtNanos('2024-01-02T03:04:05Z')).toBe(1704164645000000000n);
    expect(createdAtNanos('2024-01-02T03:04:05.5Z')).toBe(1704164645500000000n);
  });
  it('applies an offset and rejects non-timestamps', () => {
    expect(createdAtNanos('2024-01-02T05:04:05+02:00')).toBe(1704164645000000000n);
    expect(createdAtNanos('2024-02-30T00:00:00Z')).toBeUndefined();
    expect(createdAtNanos('yesterday')).toBeUndefined();
  });
});

describe('event digest (spec §5.3)', () => {
  const event: FederationEvent = {
    event_id: 'ev-1',
    origin: 'a.example',
    scope: 'b.example',
    created_at: '2024-01-02T03:04:05.123456789Z',
    // Keys out of order, a u64 beyond 2^53, escapes and non-ASCII: all must come out serde's way.
    payload: { z: 1, a: 'x"y\n', channel: 18446744073709551615n, nested: { b: [true, null], a: 'é' } },
  };

  it('is BLAKE3 over id ‖ origin ‖ scope ‖ i64 LE nanos ‖ sorted compact JSON', () => {
    const nanos = Buffer.alloc(8);
    nanos.writeBigInt64LE(1704164645123456789n);
    const expected = nobleBlake3(
      Buffer.concat([
        Buffer.from('ev-1a.exampleb.example'),
        nanos,
        Buffer.from('{"a":"x\\"y\\n","channel":18446744073709551615,"nested":{"a":"é","b":[true,null]},"z":1}', 'utf8'),
      ]),
    );
    expect(eventDigest(event).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
  });

  it('uses 0 nanoseconds for an unparseable created_at', () => {
    const zero = nobleBlake3(Buffer.concat([Buffer.from('ev-1a.exampleb.example'), Buffer.alloc(8), Buffer.from('null')]));
    expect(eventDigest({ ...event, created_at: 'garbage', payload: null }).equals(Buffer.from(zero))).toBe(true);
  });

  it('changes when any signed field changes', () => {
    const base = eventDigest(event);
    expect(eventDigest({ ...event, scope: 'c.example' }).equals(base)).toBe(false);
    expect(eventDigest({ ...event, created_at: '2024-01-02T03:04:05.123456788Z' }).equals(base)).toBe(false);
    expect(eventDigest({ ...event, payload: { ...(event.payload as object), z: 2 } }).equals(base)).toBe(false);
  });

  it('signs and verifies with the federation key, and survives a wire round trip with u64 intact', async () => {
    const signer = localSigner(SAMPLE_SEED);
    expect(signer.publicKey.toString('hex')).toBe('9719e690a626f3acdf4894922f245008e0345d1e152abe205a5e49f1f77fcbe2');
    const digest = eventDigest(event);
    const signature = await signer.sign(digest);
    const wire = serializeSignedEvent({ event, digest, signature });
    expect(wire).toContain('"channel":18446744073709551615');
    const parsed = parseSignedEvent(wire);
    expect(eventDigest(parsed.event).equals(digest)).toBe(true);
    expect(ed25519Verify(ed25519PublicKey(SAMPLE_SEED), eventDigest(parsed.event), parsed.signature)).toBe(true);
    expect(Buffer.from(parsed.digest).equals(digest)).toBe(true);
  });

  it('refuses bodies that are not a SignedEvent as malformed', () => {
    for (const body of ['', 'not json', '{"event":{}}', '{"event":{"event_id":"a","origin":"b","created_at":"c","scope":"d","payload":1},"signature":[1],"digest":[]}']) {
      expect(() => parseSignedEvent(body)).toThrow(expect.objectContaining({ code: 'malformed' }) as FederationError);
    }
  });
});

describe('retry backoff', () => {
  it('grows exponentially inside [ceiling/2, ceiling] and is capped', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect(retryDelayMs(policy, 1, () => 0)).toBe(50);
    expect(retryDelayMs(policy, 1, () => 1)).toBe(100);
    expect(retryDelayMs(policy, 3, () => 0)).toBe(200);
    expect(retryDelayMs(policy, 3, () => 1)).toBe(400);
    expect(retryDelayMs(policy, 20, () => 1)).toBe(1000);
    expect(retryDelayMs(policy, 20, () => 0)).toBe(500);
  });
});
