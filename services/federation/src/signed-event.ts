import { parseJson, stringifyJson, type JsonValue } from '@commucat/ccp1';
import { FederationError } from './errors.js';
import type { FederationEvent } from './event-digest.js';

/** The wire body of `POST /federation/events`: byte arrays are JSON arrays of numbers (serde Vec<u8>). */
export interface SignedEvent {
  readonly event: FederationEvent;
  readonly signature: Uint8Array;
  readonly digest: Uint8Array;
}

export function serializeSignedEvent(signed: SignedEvent): string {
  const event: { [key: string]: JsonValue } = { ...signed.event };
  return stringifyJson({ event, signature: [...signed.signature], digest: [...signed.digest] });
}

function field(object: { [key: string]: JsonValue }, name: string): string {
  const value = object[name];
  if (typeof value !== 'string') throw new FederationError('malformed', `event.${name} must be a string`);
  return value;
}

function byteArray(value: JsonValue | undefined, length: number, name: string): Uint8Array {
  if (!Array.isArray(value) || value.length !== length) throw new FederationError('malformed', `${name} must be ${length} bytes`);
  return Uint8Array.from(value, (b) => {
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) throw new FederationError('malformed', `${name} must hold bytes`);
    return b;
  });
}

const isObject = (v: JsonValue | undefined): v is { [key: string]: JsonValue } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a raw body with u64-exact numbers (payload integers above 2^53 stay bigint). */
export function parseSignedEvent(body: string | Uint8Array): SignedEvent {
  if (body.length === 0) throw new FederationError('malformed', 'empty body');
  let root: JsonValue;
  try {
    root = parseJson(body);
  } catch {
    throw new FederationError('malformed', 'body is not JSON');
  }
  if (!isObject(root) || !isObject(root.event)) throw new FederationError('malformed', 'body must be {event, signature, digest}');
  const event = root.event;
  if (!('payload' in event)) throw new FederationError('malformed', 'event.payload is missing');
  return {
    event: {
      event_id: field(event, 'event_id'),
      origin: field(event, 'origin'),
      created_at: field(event, 'created_at'),
      scope: field(event, 'scope'),
      payload: event.payload!,
    },
    signature: byteArray(root.signature, 64, 'signature'),
    digest: byteArray(root.digest, 32, 'digest'),
  };
}
