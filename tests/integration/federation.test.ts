import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { FrameType, encodeFrame, opaqueFrame } from '@commucat/ccp1';
import type { ClientConnection } from '@commucat/client';
import { Peer, control, freshChannel } from '../support/conversation';
import { startFederatedPair, type FederatedPair } from '../support/federated-pair';
import { connectTo, newIdentity } from '../support/fleet-client';
import type { TestFleet } from '../support/fleet';
import { rest, type RestReply } from '../support/rest-client';
import { TestPeer } from '../support/test-peer';

jest.setTimeout(180_000);

/** A device plus its REST session on one fleet. */
interface Member {
  fleet: TestFleet;
  peer: Peer;
  conn: ClientConnection;
  handle: string;
  /** handle@domain, as the other domain names this user. */
  federatedId: string;
  /** device@domain, as the other domain names this device in a channel. */
  federatedDevice: string;
}

async function member(fleet: TestFleet, prefix: string): Promise<Member> {
  const identity = newIdentity(prefix);
  const conn = await connectTo(fleet, identity);
  return {
    fleet, conn, peer: new Peer(conn, identity), handle: identity.handle!,
    federatedId: `${identity.handle!}@${fleet.domain}`, federatedDevice: `${identity.deviceId}@${fleet.domain}`,
  };
}

const api = (m: Member, method: string, path: string, body?: object): Promise<RestReply> =>
  rest(m.fleet, method, path, { token: m.conn.session, ...(body ? { body } : {}) });

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** alice@a.test asks bob@b.test, bob accepts: each then lists the other. */
async function befriend(alice: Member, bob: Member): Promise<void> {
  const asked = await api(alice, 'POST', `/api/friends/requests/${encodeURIComponent(bob.federatedId)}`, { message: 'hi from a' });
  expect(asked.status).toBe(202);
  expect(asked.json.federation).toEqual({ domain: 'b.test', status: 'queued' });
  await eventually('the request at b', async () => {
    const list = await api(bob, 'GET', '/api/friends/requests');
    return list.json.incoming.find((r: { from_user_id: string }) => r.from_user_id === alice.federatedId);
  });
  const accepted = await api(bob, 'POST', `/api/friends/requests/${encodeURIComponent(alice.federatedId)}/accept`);
  expect(accepted.status).toBe(200);
  expect(accepted.json.request.status).toBe('accepted');
  await eventually('the answer at a', async () => {
    const list = await api(alice, 'GET', '/api/friends/requests');
    const mine = list.json.outgoing.find((r: { to_user_id: string }) => r.to_user_id === bob.federatedId);
    return mine?.status === 'accepted' ? mine : undefined;
  });
}

/** Both sides declare the channel with the other's federated device. */
async function joinAcross(channel: number, alice: Member, bob: Member): Promise<void> {
  for (const [me, other] of [[alice, bob], [bob, alice]] as const) {
    const { answer } = await me.peer.request(FrameType.Join, channel, { members: [me.peer.deviceId, other.federatedDevice], relay: true });
    expect(answer.type).toBe(FrameType.Ack);
  }
}

describe('two federated fleets (a.test and b.test)', () => {
  let pair: FederatedPair;
  const intruder = new TestPeer('c.test');
  let alice: Member;
  let bob: Member;
  const channel = freshChannel();

  beforeAll(async () => {
    pair = await startFederatedPair({
      // Short backoff so the outage test sees delivery soon after B returns.
      federationEnv: { COMMUCAT_FEDERATION_BACKOFF_BASE_MS: '250', COMMUCAT_FEDERATION_BACKOFF_MAX_MS: '2000', COMMUCAT_FEDERATION_MAX_ATTEMPTS: '1000' },
      extraPeersOfB: [{ domain: intruder.domain, url: 'https://127.0.0.1:9', publicKeyHex: intruder.publicKeyHex }],
    });
    alice = await member(pair.a, 'alice');
    bob = await member(pair.b, 'bob');
  });
  afterAll(async () => {
    await alice?.conn.close();
    await bob?.conn.close();
    await pair?.stop();
  });

  test('a federated friend request is created, listed on both sides and accepted', async () => {
    await befriend(alice, bob);
    const aliceFriends = await api(alice, 'GET', '/api/friends');
    expect(aliceFriends.json.friends.map((f: { user_id: string }) => f.user_id)).toContain(bob.federatedId);
    const bobFriends = await api(bob, 'GET', '/api/friends');
    expect(bobFriends.json.friends.map((f: { user_id: string }) => f.user_id)).toContain(alice.federatedId);
  });

  test('a device on A messages a device on B and gets a reply', async () => {
    await joinAcross(channel, alice, bob);
    await alice.peer.say(channel, 'hello bob, from a.test');
    await bob.peer.expectText(channel, 'hello bob, from a.test', 20_000);
    await bob.peer.say(channel, 'hello alice, from b.test');
    await alice.peer.expectText(channel, 'hello alice, from b.test', 20_000);
  });

  test('a rejected federated request is answered back and nobody befriends anybody', async () => {
    const carol = await member(pair.a, 'carol');
    const dave = await member(pair.b, 'dave');
    try {
      expect((await api(carol, 'POST', `/api/friends/requests/${encodeURIComponent(dave.federatedId)}`)).status).toBe(202);
      await eventually('the request at b', async () => {
        const list = await api(dave, 'GET', '/api/friends/requests');
        return list.json.incoming.find((r: { from_user_id: string }) => r.from_user_id === carol.federatedId);
      });
      const rejected = await api(dave, 'POST', `/api/friends/requests/${encodeURIComponent(carol.federatedId)}/reject`);
      expect(rejected.status).toBe(200);
      await eventually('the rejection at a', async () => {
        const list = await api(carol, 'GET', '/api/friends/requests');
        const mine = list.json.outgoing.find((r: { to_user_id: string }) => r.to_user_id === dave.federatedId);
        return mine?.status === 'rejected' ? mine : undefined;
      });
      expect((await api(carol, 'GET', '/api/friends')).json.friends).toEqual([]);
      expect((await api(dave, 'GET', '/api/friends')).json.friends).toEqual([]);

      // Not friends: carol's messages to dave's device are refused by b, never delivered.
      const ch = freshChannel();
      await joinAcross(ch, carol, dave);
      await carol.peer.say(ch, 'you should never see this');
      await dave.peer.say(ch, 'marker from dave');
      // An unknown domain is refused to the sender after the local members got the frame.
      const { answer } = await carol.peer.request(FrameType.Join, ch, { members: ['someone@nowhere.test'] });
      expect(answer.type).toBe(FrameType.Ack);
      carol.peer.sendText(ch, 'to nowhere');
      const refused = await carol.peer.reply();
      expect(control(refused).error).toBe('unknown_domain');
      expect((await dave.peer.next(2_000).catch(() => undefined))).toBeUndefined();

      // b refused those events for good (403), so a keeps them as dead letters, shown by the CLI.
      const outbox = await eventually('the dead letters at a', async () => {
        const run = spawnSync(process.execPath, [path.resolve(__dirname, '../../services/cli/dist/main.js'), 'federation', 'outbox', '--json'], { env: pair.a.env(), encoding: 'utf8' });
        expect(run.status).toBe(0);
        const doc = JSON.parse(run.stdout) as { dead: number; dead_letters: { peer: string; event_type: string; last_error: string }[] };
        return doc.dead >= 2 ? doc : undefined;
      });
      expect(outbox.dead_letters.slice(0, 2)).toEqual([
        expect.objectContaining({ peer: 'b.test', event_type: 'relay', last_error: 'peer answered 403' }),
        expect.objectContaining({ peer: 'b.test', event_type: 'relay', last_error: 'peer answered 403' }),
      ]);
    } finally {
      await carol.conn.close();
      await dave.conn.close();
    }
  });

  describe('POST /federation/events refusals', () => {
    const post = (body: string) => rest(pair.b, 'POST', '/federation/events', { body, headers: { 'content-type': 'application/json' } });

    function expectProblem(reply: RestReply, status: number, code: string): void {
      expect(reply.status).toBe(status);
      expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(reply.json).toMatchObject({ type: `https://commucat.dev/problems/${code}`, status });
      expect(typeof reply.json.title).toBe('string');
    }

    test('tampered, unknown, stale, replayed and unauthorised events are refused and nothing is delivered', async () => {
      const requestsBefore = (await api(bob, 'GET', '/api/friends/requests')).json.incoming.length;
      const friendRequest = (requestId: string, message: string) => ({
        type: 'friend_request', request_id: requestId, from: 'mallory@c.test', to: bob.federatedId, message, timestamp: new Date().toISOString(),
      });

      // Tampered: the payload changed after signing.
      const tampered = intruder.event('b.test', friendRequest('req-tampered', 'original'));
      expectProblem(await post(intruder.signedBody(tampered, (body) => {
        (body.event.payload as { message: string }).message = 'changed';
      })), 403, 'bad-signature');

      // Unknown peer: a well-formed, self-consistent event from a domain b does not list.
      const stranger = new TestPeer('stranger.test');
      expectProblem(await post(stranger.signedBody(stranger.event('b.test', friendRequest('req-stranger', 'hello')))), 403, 'unknown-peer');

      // Stale: signed correctly, but an hour old.
      const stale = intruder.event('b.test', friendRequest('req-stale', 'old'), { created_at: new Date(Date.now() - 3_600_000) });
      expectProblem(await post(intruder.signedBody(stale)), 400, 'stale-event');

      // Addressed to another domain (§11.13 scope check).
      expectProblem(await post(intruder.signedBody(intruder.event('a.test', friendRequest('req-scope', 'x')))), 403, 'wrong-scope');

      // A frame for bob's device from a user bob never befriended.
      const notFriends = intruder.event('b.test', {
        channel, sequence: 1, payload: msgFrameHex(channel, 'intrusion'), sender: 'intruder-device', sender_user: 'mallory@c.test', target: bob.peer.deviceId,
      });
      expectProblem(await post(intruder.signedBody(notFriends)), 403, 'not-permitted');

      // Replay: the first delivery is accepted; the same event again is a duplicate (200, not
      // applied twice), and the same id with other content is refused.
      const genuine = intruder.event('b.test', friendRequest('req-genuine', 'genuine'));
      const first = await post(intruder.signedBody(genuine));
      expect(first.status).toBe(202);
      expect(first.json).toEqual({ status: 'accepted', event_id: genuine.event_id });
      const again = await post(intruder.signedBody(genuine));
      expect(again.status).toBe(200);
      expect(again.json.status).toBe('duplicate');
      const replay = { ...genuine, payload: friendRequest('req-replayed', 'replayed') };
      expectProblem(await post(intruder.signedBody(replay)), 409, 'replayed-event');

      // Malformed bodies.
      expectProblem(await post('{"event":'), 400, 'malformed-event');
      expectProblem(await post(JSON.stringify({ event: { event_id: 'x' }, signature: [], digest: [] })), 400, 'malformed-event');

      // Exactly one request reached bob (the genuine one), and no frame reached his device.
      const incoming = (await api(bob, 'GET', '/api/friends/requests')).json.incoming as { from_user_id: string; message: string | null }[];
      expect(incoming.length).toBe(requestsBefore + 1);
      expect(incoming.filter((r) => r.from_user_id === 'mallory@c.test').map((r) => r.message)).toEqual(['genuine']);
      await alice.peer.say(channel, 'marker after the refusals');
      await bob.peer.expectText(channel, 'marker after the refusals', 20_000);
    });
  });

  test("B's federation service down for 30 s while A keeps sending: everything arrives once, in order", async () => {
    const outageChannel = freshChannel();
    await joinAcross(outageChannel, alice, bob);
    const down = pair.b.restart('federation', 'SIGTERM', 30_000);
    // Wait until it is really down (the restart stops it first).
    await eventually('b federation to stop', async () => (pair.b.processNames().includes('federation') ? undefined : true), 15_000);
    const sent: string[] = [];
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < 25_000) {
      const message = `during the outage #${i++}`;
      await alice.peer.say(outageChannel, message);
      sent.push(message);
      await new Promise((r) => setTimeout(r, 250));
    }
    await down;
    for (const message of sent) await bob.peer.expectText(outageChannel, message, 60_000);
    // Nothing more (no duplicate) before the next marker.
    await alice.peer.say(outageChannel, 'after the outage');
    await bob.peer.expectText(outageChannel, 'after the outage', 30_000);
    expect(sent.length).toBeGreaterThan(50);
  });
});

/** A Msg frame as a peer relays it: hex of the encoded CCP-1 frame. */
const msgFrameHex = (channel: number, message: string): string =>
  Buffer.from(encodeFrame(opaqueFrame(FrameType.Msg, channel, 1, Buffer.from(message)))).toString('hex');
