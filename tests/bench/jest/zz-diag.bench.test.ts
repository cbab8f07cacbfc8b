// SCRATCH diagnostic (to be deleted): where does a federated event's time go?
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameType, encodeFrame, opaqueFrame } from '@commucat/ccp1';
import { DirectoryServiceClient, SecretsServiceClient } from '@commucat/contracts';
import { callUnary, createGrpcClient } from '@commucat/service-kit';
import { createPgPool } from '@commucat/storage';
import { Peer, freshChannel } from '../../support/conversation';
import { startFederatedPair, type FederatedPair } from '../../support/federated-pair';
import { connectTo, newIdentity } from '../../support/fleet-client';
import type { TestFleet } from '../../support/fleet';
import { rest } from '../../support/rest-client';
import { TestPeer } from '../../support/test-peer';

jest.setTimeout(300_000);
const log = (s: string) => void process.stderr.write(`DIAG ${s}\n`);
const pct = (v: number[], p: number) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]!; };
const summary = (name: string, v: number[]) => log(`${name}: n=${v.length} p50=${pct(v, 50).toFixed(2)} p90=${pct(v, 90).toFixed(2)} p99=${pct(v, 99).toFixed(2)} mean=${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)} ms`);
async function timeIt(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await f(); out.push(performance.now() - t); }
  return out;
}

async function member(fleet: TestFleet, prefix: string) {
  const identity = newIdentity(prefix);
  const conn = await connectTo(fleet, identity);
  return { fleet, conn, peer: new Peer(conn, identity), federatedId: `${identity.handle!}@${fleet.domain}`, federatedDevice: `${identity.deviceId}@${fleet.domain}` };
}
type M = Awaited<ReturnType<typeof member>>;
const api = (m: M, method: string, path: string) => rest(m.fleet, method, path, { token: m.conn.session });
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) { const v = await probe(); if (v !== undefined) return v; await sleep(200); }
}

test('diagnose', async () => {
  const intruder = new TestPeer('c.test');
  const pair: FederatedPair = await startFederatedPair({ extraPeersOfB: [{ domain: intruder.domain, url: 'https://127.0.0.1:9', publicKeyHex: intruder.publicKeyHex }] });
  try {
    const alice = await member(pair.a, 'dg-alice');
    const bob = await member(pair.b, 'dg-bob');
    await api(alice, 'POST', `/api/friends/requests/${encodeURIComponent(bob.federatedId)}`);
    await eventually(async () => (await api(bob, 'GET', '/api/friends/requests')).json.incoming[0]);
    await api(bob, 'POST', `/api/friends/requests/${encodeURIComponent(alice.federatedId)}/accept`);
    await eventually(async () => ((await api(alice, 'GET', '/api/friends/requests')).json.outgoing[0]?.status === 'accepted' ? true : undefined));
    const channel = freshChannel();
    await alice.peer.request(FrameType.Join, channel, { members: [alice.peer.deviceId, bob.federatedDevice], relay: true });
    await bob.peer.request(FrameType.Join, channel, { members: [bob.peer.deviceId, alice.federatedDevice], relay: true });

    // (a) A's secrets: sign a digest.
    const secrets = createGrpcClient(SecretsServiceClient, pair.a.env().COMMUCAT_SECRETS_ADDR!);
    summary('A secrets.signFederationEvent', await timeIt(200, () => callUnary(secrets, 'signFederationEvent', { digest: Buffer.alloc(32, 7) }, { deadlineMs: 5000, waitForReady: true })));
    secrets.close();
    // (b) B's directory: the friend check of every relay event.
    const directory = createGrpcClient(DirectoryServiceClient, pair.b.env().COMMUCAT_DIRECTORY_ADDR!);
    summary('B directory.authorizeFederatedDelivery', await timeIt(200, () => callUnary(directory, 'authorizeFederatedDelivery', { origin: 'a.test', targetDeviceId: bob.peer.deviceId, senderUser: alice.federatedId }, { deadlineMs: 5000, waitForReady: true })));
    directory.close();

    // (c) POST /federation/events at B (refused after the directory check: not friends), keep-alive.
    const frameHex = Buffer.from(encodeFrame(opaqueFrame(FrameType.Msg, channel, 1, Buffer.from('x')))).toString('hex');
    const body = () => intruder.signedBody(intruder.event('b.test', { channel, sequence: 1, payload: frameHex, sender: 'dev', sender_user: 'mallory@c.test', target: bob.peer.deviceId }));
    const url = `https://127.0.0.1:${pair.b.gatewayPorts[0]}/federation/events`;
    const post = (agent: https.Agent, noDelay: boolean) => new Promise<number>((resolve, reject) => {
      const b = body();
      const req = https.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
      if (noDelay) req.on('socket', (s) => s.setNoDelay(true));
      req.on('error', reject);
      req.end(b);
    });
    for (const noDelay of [false, true]) {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: pair.b.tlsCert });
      log(`status ${await post(agent, noDelay)}`);
      summary(`POST /federation/events at B (403 after directory) noDelay=${noDelay}`, await timeIt(200, () => post(agent, noDelay)));
      agent.destroy();
    }

    // (d) The real path, timed from the tables: 300 messages pipelined.
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) { alice.peer.sendText(channel, `m${i}`); if (i % 100 === 99) await sleep(600); }
    for (let i = 0; i < 300; i++) await bob.peer.nextMatching((f) => f.type === FrameType.Msg, 'msg', 60_000);
    log(`300 messages delivered in ${Date.now() - t0} ms`);
    const poolA = createPgPool({ dsn: pair.a.db.dsn, max: 1 });
    const poolB = createPgPool({ dsn: pair.b.db.dsn, max: 1 });
    const outRows = (await poolA.query(`SELECT event_id, extract(epoch from created_at)*1000 AS c, extract(epoch from finished_at)*1000 AS f FROM federation_outbox WHERE event_type <> 'friend_request' AND event_type <> 'friend_answer' AND state='delivered' ORDER BY id`)).rows;
    const inRows = new Map((await poolB.query(`SELECT event_id, extract(epoch from processed_at)*1000 AS p FROM federation_inbound`)).rows.map((r) => [r.event_id, Number(r.p)]));
    log(`event types: ${JSON.stringify((await poolA.query('SELECT event_type, count(*) FROM federation_outbox GROUP BY 1')).rows)}`);
    const cycle: number[] = []; const aTurn: number[] = []; const bToDone: number[] = [];
    let prevF: number | undefined; let prevP: number | undefined;
    for (const r of outRows.slice(-300)) {
      const p = inRows.get(r.event_id); const f = Number(r.f);
      if (p === undefined) continue;
      if (prevP !== undefined) cycle.push(p - prevP);
      if (prevF !== undefined) aTurn.push(p - prevF);
      bToDone.push(f - p);
      prevF = f; prevP = p;
    }
    summary('cycle (B processed_at to next)', cycle);
    summary('A finished_at(prev) -> B processed_at(next): A claim+sign+POST+gateway', aTurn);
    summary('B processed_at -> A finished_at: B deliver+commit+response+A markDelivered', bToDone);
    await poolA.end(); await poolB.end();
    await alice.conn.close(); await bob.conn.close();
  } finally {
    await pair.stop();
  }
});
