import { randomBytes } from 'node:crypto';
import { controlFrame, encodeFrame, FrameType, type JsonValue } from '@commucat/ccp1';
import { DirectoryServiceClient, type Notice } from '@commucat/contracts';
import { createGrpcClient } from '@commucat/service-kit';
import { FederationError } from '../src/errors';
import { FleetDelivery } from '../src/fleet-delivery';
import type { SignedEvent } from '../src/signed-event';

// Every case here is refused before the directory is asked, so its client points nowhere; the
// accepted paths (directory authorisation, the router notice) run in the two-fleet integration test.
const directory = createGrpcClient(DirectoryServiceClient, '127.0.0.1:9');
afterAll(() => directory.close());

const published: Notice[] = [];
const delivery = new FleetDelivery({ directory, notices: { publish: async (n) => { published.push(n); } }, localDomain: 'b.test', deadlineMs: 200 });
const peer = { domain: 'a.test', url: 'https://127.0.0.1:1', publicKey: randomBytes(32) };
const frameHex = Buffer.from(encodeFrame(controlFrame(FrameType.Msg, 7, 1, { text: 'hi' }))).toString('hex');

const signed = (payload: JsonValue): SignedEvent => ({
  event: { event_id: 'e1', origin: 'a.test', scope: 'b.test', created_at: '2026-01-01T00:00:00Z', payload },
  signature: new Uint8Array(64),
  digest: new Uint8Array(32),
});

const relay = (overrides: Record<string, JsonValue>): JsonValue => ({
  channel: 7, sequence: 1, payload: frameHex, sender: 'dev-a', sender_user: 'alice@a.test', target: 'dev-b@b.test', ...overrides,
});

const refusal = (payload: JsonValue) => delivery.deliver(signed(payload), peer).then(() => 'delivered', (err: { code?: string }) => err.code);

describe('FleetDelivery refuses events it must never deliver, with a stable code', () => {
  it.each([
    ['a payload that is not an object', [1, 2], 'invalid_payload'],
    ['an unknown event type', { type: 'party' }, 'invalid_payload'],
    ['a target on another domain', relay({ target: 'dev-b@c.test' }), 'invalid_target'],
    ['an empty target device', relay({ target: '@b.test' }), 'invalid_target'],
    ['a missing target', relay({ target: null }), 'invalid_payload'],
    ['a frame that is not hex', relay({ payload: 'zz' }), 'invalid_payload'],
    ['hex that is not a CCP-1 frame', relay({ payload: 'ffffffff' }), 'invalid_payload'],
    ['no sender_user (only friends may send)', relay({ sender_user: null }), 'not_permitted'],
    ['a sender_user of another domain', relay({ sender_user: 'mallory@c.test' }), 'not_permitted'],
    ['a friend request from a user of another domain', { type: 'friend_request', request_id: 'r1', from: 'mallory@c.test', to: 'bob' }, 'not_permitted'],
    ['a friend request without request_id', { type: 'friend_request', from: 'alice@a.test', to: 'bob' }, 'invalid_payload'],
    ['a friend request with a non-string message', { type: 'friend_request', request_id: 'r1', from: 'alice@a.test', to: 'bob', message: 5 }, 'invalid_payload'],
    ['a friend answer with an unknown status', { type: 'friend_answer', request_id: 'r1', from: 'bob@a.test', status: 'maybe' }, 'invalid_payload'],
  ])('%s', async (_what, payload, code) => {
    expect(await refusal(payload as JsonValue)).toBe(code);
    expect(published).toEqual([]);
  });

  it('treats the directory being unreachable as a delivery failure to retry, not a refusal', async () => {
    const outcome = await delivery.deliver(signed(relay({})), peer).then(() => 'delivered', (err: unknown) => err);
    expect(outcome).not.toBe('delivered');
    // A gRPC failure (DEADLINE_EXCEEDED), not a FederationError: the processor answers delivery_failed.
    expect(outcome).not.toBeInstanceOf(FederationError);
    expect((outcome as { code?: unknown }).code).toBe(4);
    expect(published).toEqual([]);
  });
});
