import pino from 'pino';
import { connectBus, type Bus } from '@commucat/bus';
import { controlFrame, decodeFrame, encodeFrame, FrameType, opaqueFrame } from '@commucat/ccp1';
import { PresenceServiceClient, RelayServiceClient } from '@commucat/contracts';
import { createGrpcClient } from '@commucat/service-kit';
import { migratedSchema, type MigratedSchema } from '../../../tests/support/pg-schema';
import { stackEnv } from '../../../tests/support/stack-env';
import { RouterError, RouterStopping } from '../src/errors';
import { FanOut } from '../src/fan-out';
import { FrameHandlers } from '../src/frame-handlers';
import { MembershipStore } from '../src/membership-store';
import { PresenceFrames } from '../src/presence-frames';
import { KeyedSerialQueue, SerialQueue } from '../src/serial-queue';

let db: MigratedSchema;
beforeAll(async () => { db = await migratedSchema('routermem'); });
afterAll(() => db?.drop());

describe('MembershipStore', () => {
  test('a Join that would pass the member limit is refused and rolled back', async () => {
    const store = new MembershipStore(db.pool, 3);
    expect(await store.join(1, ['a', 'b'], false)).toEqual(['a', 'b']);
    const err = await store.join(1, ['c', 'd'], true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterError);
    expect((err as RouterError).code).toBe('channel_full');
    expect(await store.members(1)).toEqual(['a', 'b']);
    const { rows } = await db.pool.query('SELECT relay FROM channel WHERE channel_id = 1');
    expect(rows).toEqual([{ relay: false }]);
  });

  test('recipientsOf excludes the sender and is undefined for non-members; leave reports membership', async () => {
    const store = new MembershipStore(db.pool);
    await store.join(2, ['x', 'y', 'z', 'x'], false);
    expect(await store.recipientsOf(2, 'y')).toEqual(['x', 'z']);
    expect(await store.recipientsOf(2, 'w')).toBeUndefined();
    expect(await store.recipientsOf(3, 'x')).toBeUndefined();
    expect(await store.leave(2, 'w')).toBe(false);
    expect(await store.leave(2, 'y')).toBe(true);
    expect(await store.members(2)).toEqual(['x', 'z']);
  });

  test('the schema refuses channel ids outside u32', async () => {
    await expect(db.pool.query('INSERT INTO channel (channel_id) VALUES (4294967296)')).rejects.toThrow(/check/);
    await db.pool.query('INSERT INTO channel (channel_id) VALUES (4294967295)');
  });
});

describe('FrameHandlers when relay is unreachable', () => {
  let bus: Bus;
  beforeAll(async () => { bus = await connectBus({ servers: stackEnv().natsUrl, name: 'router-test-unavailable' }); });
  afterAll(() => bus?.close());

  test('a Msg waits for relay (no Error that a later message could overtake) and is left unanswered when the router stops', async () => {
    const membership = new MembershipStore(db.pool);
    await membership.join(40, ['sender', 'peer'], false);
    // Port 1 on loopback: nothing listens, so every call fails within the deadline.
    const relay = createGrpcClient(RelayServiceClient, '127.0.0.1:1');
    const presence = createGrpcClient(PresenceServiceClient, '127.0.0.1:1');
    try {
      const logger = pino({ level: 'silent' });
      const stopping = new AbortController();
      const fanOut = new FanOut({ relay, presence, bus, logger, callDeadlineMs: 300, stopping: stopping.signal });
      const friends = { mutualFriendDevices: async () => [] };
      const presenceFrames = new PresenceFrames({ presence, membership, friends, fanOut, logger, callDeadlineMs: 300 });
      const handlers = new FrameHandlers({ membership, fanOut, presenceFrames, logger, localDomain: 'example.org' });
      const inbound = (connectionId: string, frame: Uint8Array) => ({
        deviceId: 'sender', userId: 'u', userHandle: 'u', gatewayId: 'gw', connectionId, receivedAt: Date.now(), idempotentSend: false, mediaHeader: false, frame: Buffer.from(frame),
      });
      let settled = false;
      const waiting = handlers.handle(inbound('c1', encodeFrame(opaqueFrame(FrameType.Msg, 40, 3, Buffer.from('hi')))));
      void waiting.then(() => { settled = true; }, () => { settled = true; });
      // Several failed attempts (300 ms deadline each) later it is still waiting, not answered.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(settled).toBe(false);
      stopping.abort();
      await expect(waiting).rejects.toBeInstanceOf(RouterStopping);

      // A Presence frame normally gets no reply; when presence cannot store it, the sender learns so.
      const presenceOutcome = await handlers.handle(inbound('c1', encodeFrame(controlFrame(FrameType.Presence, 0, 4, { state: 'away' }))));
      expect(presenceOutcome).toMatchObject({ type: 'presence', result: 'unavailable' });
      expect(decodeFrame(presenceOutcome.reply!).frame.payload).toMatchObject({ kind: 'control', value: { error: 'unavailable' } });

      // Join needs no fleet call, so it still works.
      const join = await handlers.handle({ ...inbound('c2', encodeFrame(controlFrame(FrameType.Join, 40, 3, { members: [] }))), deviceId: 'third' });
      expect(join.result).toBe('ok');
      expect(await membership.members(40)).toEqual(['peer', 'sender', 'third']);
    } finally {
      relay.close();
      presence.close();
    }
  });
});

describe('SerialQueue', () => {
  test('runs tasks one at a time in the order added, and a failure does not stop the rest', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, delayMs: number, fail = false) => async () => {
      running += 1;
      expect(running).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      log.push(name);
      running -= 1;
      if (fail) throw new Error(name);
      return name;
    };
    const results = [queue.run(task('slow', 30)), queue.run(task('fails', 1, true)), queue.run(task('fast', 0))];
    await expect(results[0]).resolves.toBe('slow');
    await expect(results[1]).rejects.toThrow('fails');
    await expect(results[2]).resolves.toBe('fast');
    await queue.idle();
    expect(log).toEqual(['slow', 'fails', 'fast']);
  });
});

describe('KeyedSerialQueue', () => {
  test('keeps order within a key, runs keys concurrently, survives failures and forgets idle keys', async () => {
    const queue = new KeyedSerialQueue();
    const log: string[] = [];
    const running = new Map<string, number>();
    let peak = 0;
    const task = (key: string, name: string, delayMs: number, fail = false) => async () => {
      running.set(key, (running.get(key) ?? 0) + 1);
      expect(running.get(key)).toBe(1); // never two of one key at once
      peak = Math.max(peak, [...running.values()].reduce((a, b) => a + b, 0));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      log.push(name);
      running.set(key, running.get(key)! - 1);
      if (fail) throw new Error(name);
      return name;
    };
    const results = [
      queue.run('ch:5', task('ch:5', 'a1', 40)),
      queue.run('ch:6', task('ch:6', 'b1', 5)),
      queue.run('ch:5', task('ch:5', 'a2', 1, true)),
      queue.run('ch:6', task('ch:6', 'b2', 5)),
      queue.run('ch:5', task('ch:5', 'a3', 0)),
    ];
    await Promise.allSettled(results);
    await expect(results[2]).rejects.toThrow('a2');
    await queue.idle();
    expect(log.filter((n) => n.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(log.filter((n) => n.startsWith('b'))).toEqual(['b1', 'b2']);
    // channel 6 finished while channel 5's slow first task still ran
    expect(log.indexOf('b2')).toBeLessThan(log.indexOf('a1'));
    expect(peak).toBe(2);
    expect(queue.activeKeys).toBe(0);
  });
});
