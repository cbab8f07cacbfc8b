import { FrameType, controlFrame, encodeFrame, opaqueFrame, type Frame } from '@commucat/ccp1';
import { connectBus, Subjects, type Bus } from '@commucat/bus';
import { createDeviceIdentity, type ClientConnection } from '@commucat/client';
import { RelayServiceClient } from '@commucat/contracts';
import { callUnary, createGrpcClient } from '@commucat/service-kit';
import { TestFleet } from '../support/fleet';
import { connectTo } from '../support/fleet-client';
import { stackEnv } from '../support/stack-env';

jest.setTimeout(90_000);
let fleet: TestFleet;
let relay: RelayServiceClient;
let bus: Bus;
beforeAll(async () => {
  fleet = await TestFleet.start();
  relay = createGrpcClient(RelayServiceClient, fleet.env().COMMUCAT_RELAY_ADDR!);
  bus = await connectBus({ servers: stackEnv().natsUrl, namespace: fleet.natsNamespace, name: 'delivery-test' });
});
afterAll(async () => {
  relay?.close();
  await bus?.close();
  await fleet?.stop();
});

let counter = 0;
const newDevice = () => createDeviceIdentity({ deviceId: `dlv-${process.pid}-${Date.now()}-${++counter}`, handle: `dlv-${process.pid}-${Date.now()}-${counter}` });
const msg = (text: string, sequence = 77) => encodeFrame(opaqueFrame(FrameType.Msg, 5, sequence, Buffer.from(text)));
const text = (f: Frame) => (f.payload.kind === 'opaque' ? Buffer.from(f.payload.bytes).toString() : JSON.stringify(f.payload.value));

async function enqueue(deviceId: string, frames: Buffer[], prefix: string): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < frames.length; i += 500) {
    const res = await callUnary(relay, 'enqueue', {
      envelopes: frames.slice(i, i + 500).map((frame, j) => ({
        deviceId, messageId: `${prefix}-${i + j}`, channelId: 5, frame, senderDeviceId: 'sender', enqueuedAt: 0, expiresAt: 0, seq: 0,
      })),
      ttlSeconds: 0,
    });
    seqs.push(...res.envelopes.map((e) => e.seq));
  }
  return seqs;
}

const depth = async (deviceId: string) => (await callUnary(relay, 'depth', { deviceId })).envelopes;

async function waitForDepth(deviceId: string, expected: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await depth(deviceId)) !== expected) {
    if (Date.now() > deadline) throw new Error(`relay depth of ${deviceId} stayed at ${await depth(deviceId)}, expected ${expected}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function receive(conn: ClientConnection, n: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  while (frames.length < n) frames.push(await conn.nextFrame(10_000));
  return frames;
}

describe('inbox drain and live delivery on the gateway', () => {
  test('a reconnecting device gets its whole inbox in order, resequenced, before live traffic; then the inbox is empty', async () => {
    const identity = newDevice();
    await enqueue(identity.deviceId, Array.from({ length: 700 }, (_, i) => msg(`queued ${i}`)), 'q');
    expect(await depth(identity.deviceId)).toBe(700);

    const conn = await connectTo(fleet, identity);
    // Published as soon as the handshake is done: it must still come after the 700 queued frames.
    bus.publish(Subjects.gatewayDelivery, { gatewayId: fleet.gatewayId() }, { deviceId: identity.deviceId, connectionId: '', frame: msg('live'), relaySeq: 0, messageId: 'live-1', media: undefined });
    const frames = await receive(conn, 701);
    expect(frames.slice(0, 700).map(text)).toEqual(Array.from({ length: 700 }, (_, i) => `queued ${i}`));
    expect(text(frames[700]!)).toBe('live');
    // The delivery counter numbers them 1, 2, 3 … whatever sequence they were queued with (§7.1).
    expect(frames.map((f) => f.sequence)).toEqual(Array.from({ length: 701 }, (_, i) => i + 1));
    expect(frames.every((f) => f.channel === 5)).toBe(true);
    await waitForDepth(identity.deviceId, 0);
    await conn.close();
  });

  test('a live delivery of a queued envelope removes it from the inbox once written', async () => {
    const identity = newDevice();
    const conn = await connectTo(fleet, identity);
    const [seq] = await enqueue(identity.deviceId, [msg('hello while online')], 'live');
    bus.publish(Subjects.gatewayDelivery, { gatewayId: fleet.gatewayId() }, { deviceId: identity.deviceId, connectionId: '', frame: msg('hello while online'), relaySeq: seq!, messageId: 'live-0', media: undefined });
    const [frame] = await receive(conn, 1);
    expect(text(frame!)).toBe('hello while online');
    await waitForDepth(identity.deviceId, 0);
    await conn.close();
  });

  test('TransportUpdate (0x14) never reaches a client that did not opt in (trap T4); others get it', async () => {
    const update = encodeFrame(controlFrame(FrameType.TransportUpdate, 7, 1, { call_id: 'c1', update: 'consent_keepalive', interval_secs: 15 }));
    const plain = await connectTo(fleet, newDevice());
    const capable = await connectTo(fleet, newDevice(), { capabilities: ['noise', 'zstd', 'transport-update'] });
    for (const conn of [plain, capable]) {
      for (const frame of [update, msg('after the update')]) {
        bus.publish(Subjects.gatewayDelivery, { gatewayId: fleet.gatewayId() }, { deviceId: conn.identity.deviceId, connectionId: '', frame, relaySeq: 0, messageId: '', media: undefined });
      }
    }
    expect((await receive(plain, 1)).map((f) => f.type)).toEqual([FrameType.Msg]);
    expect((await receive(capable, 2)).map((f) => f.type)).toEqual([FrameType.TransportUpdate, FrameType.Msg]);
    await plain.close();
    await capable.close();
  });

  test('a delivery for a device that is not connected stays in its inbox', async () => {
    const identity = newDevice();
    const [seq] = await enqueue(identity.deviceId, [msg('for later')], 'later');
    bus.publish(Subjects.gatewayDelivery, { gatewayId: fleet.gatewayId() }, { deviceId: identity.deviceId, connectionId: '', frame: msg('for later'), relaySeq: seq!, messageId: 'later-0', media: undefined });
    await new Promise((r) => setTimeout(r, 300));
    expect(await depth(identity.deviceId)).toBe(1);
    const conn = await connectTo(fleet, identity);
    expect(text((await receive(conn, 1))[0]!)).toBe('for later');
    await waitForDepth(identity.deviceId, 0);
    await conn.close();
  });

  test('relay-ack: queued frames carry their relay seq and stay queued until the device acknowledges them; live-only frames carry 0', async () => {
    const identity = newDevice();
    const seqs = await enqueue(identity.deviceId, [msg('one'), msg('two'), msg('three')], 'rack');
    const relayAck = { capabilities: ['noise', 'zstd', 'relay-ack'] };

    // Written but not acknowledged: all three come back on the next connect, with the same numbers.
    let conn = await connectTo(fleet, identity, relayAck);
    let frames = await receive(conn, 3);
    expect(frames.map((f) => [text(f), f.sequence])).toEqual([['one', seqs[0]], ['two', seqs[1]], ['three', seqs[2]]]);
    await conn.close();
    expect(await depth(identity.deviceId)).toBe(3);

    conn = await connectTo(fleet, identity, relayAck);
    frames = await receive(conn, 3);
    expect(frames.map((f) => f.sequence)).toEqual(seqs);
    // One Ack frame may carry one seq (`ack`) and a list (`acks`); unknown numbers are ignored.
    conn.sendControl(FrameType.Ack, 0, { ack: seqs[0]!, acks: [seqs[1]!, 999_999] });
    await waitForDepth(identity.deviceId, 1);
    // A live-only frame (not queued) carries sequence 0: there is nothing to acknowledge.
    bus.publish(Subjects.gatewayDelivery, { gatewayId: fleet.gatewayId() }, {
      deviceId: identity.deviceId, connectionId: '', frame: encodeFrame(controlFrame(FrameType.Typing, 5, 9, { device: 'x' })), relaySeq: 0, messageId: '', media: undefined,
    });
    const typing = (await receive(conn, 1))[0]!;
    expect([typing.type, typing.sequence]).toEqual([FrameType.Typing, 0]);
    // A repeated live delivery of a frame already written (a router handling a frame twice) is dropped.
    bus.publish(Subjects.gatewayDelivery, { gatewayId: fleet.gatewayId() }, {
      deviceId: identity.deviceId, connectionId: '', frame: msg('three'), relaySeq: seqs[2]!, messageId: 'rack-2', media: undefined,
    });
    bus.publish(Subjects.gatewayDelivery, { gatewayId: fleet.gatewayId() }, {
      deviceId: identity.deviceId, connectionId: '', frame: encodeFrame(controlFrame(FrameType.Typing, 5, 10, { device: 'marker' })), relaySeq: 0, messageId: '', media: undefined,
    });
    expect(JSON.parse(text((await receive(conn, 1))[0]!))).toEqual({ device: 'marker' });
    await conn.close();

    conn = await connectTo(fleet, identity, relayAck);
    frames = await receive(conn, 1);
    expect(frames.map((f) => [text(f), f.sequence])).toEqual([['three', seqs[2]]]);
    conn.sendControl(FrameType.Ack, 0, { acks: [seqs[2]!] });
    await waitForDepth(identity.deviceId, 0);
    await conn.close();
  });
});
