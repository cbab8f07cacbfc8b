import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';

/** A JSON payload of strings, integers, booleans, null, arrays and objects (no floats). */
export type PeerPayload = string | number | boolean | null | PeerPayload[] | { [key: string]: PeerPayload };

/** serde_json's compact form for the values above: object keys sorted, no whitespace. */
function canonicalJson(value: PeerPayload): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function nanosLittleEndian(createdAt: Date): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(BigInt(createdAt.getTime()) * 1_000_000n);
  return out;
}

export interface PeerEvent {
  event_id: string;
  origin: string;
  scope: string;
  created_at: Date;
  payload: PeerPayload;
}

/**
 * A federation peer written from the spec alone (rest-storage-ops §5.3), independent of the
 * federation service's code: it signs events the way a reference server would, so tests can
 * send valid, tampered, stale and replayed events to a fleet's /federation/events.
 */
export class TestPeer {
  private readonly privateKey: KeyObject;
  readonly publicKeyHex: string;

  constructor(readonly domain: string) {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicKeyHex = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  }

  event(scope: string, payload: PeerPayload, overrides: Partial<PeerEvent> = {}): PeerEvent {
    return { event_id: randomUUID(), origin: this.domain, scope, created_at: new Date(), payload, ...overrides };
  }

  static digest(event: PeerEvent): Buffer {
    return Buffer.from(blake3(Buffer.concat([
      Buffer.from(event.event_id), Buffer.from(event.origin), Buffer.from(event.scope),
      nanosLittleEndian(event.created_at), Buffer.from(canonicalJson(event.payload)),
    ])));
  }

  /** The wire body: the event, then byte arrays as JSON arrays of numbers (serde Vec<u8>). */
  signedBody(event: PeerEvent, mutate?: (body: { event: Record<string, unknown>; signature: number[]; digest: number[] }) => void): string {
    const digest = TestPeer.digest(event);
    const body = {
      event: { event_id: event.event_id, origin: event.origin, created_at: event.created_at.toISOString(), payload: event.payload, scope: event.scope },
      signature: [...sign(null, digest, this.privateKey)],
      digest: [...digest],
    };
    mutate?.(body);
    return JSON.stringify(body);
  }
}
