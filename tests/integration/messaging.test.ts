import { FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import type { ClientConnection, DeviceIdentity } from '@commucat/client';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';

jest.setTimeout(90_000);
let fleet: TestFleet;
beforeAll(async () => { fleet = await TestFleet.start({ gateways: 2 }); });
afterAll(() => fleet?.stop());

const text = (f: Frame) => (f.payload.kind === 'opaque' ? Buffer.from(f.payload.bytes).toString() : '');
const control = (f: Frame) => (f.payload.kind === 'control' ? (f.payload.value as Record<string, JsonValue>) : {});

/** Sends a control frame and waits for the frame answering it (Ack or Error) on that channel. */
async function request(conn: ClientConnection, type: FrameType, channel: number, value: JsonValue): Promise<Frame> {
  conn.sendControl(type, channel, value);
  for (;;) {
    const f = await conn.nextFrame(10_000);
    if (f.type === FrameType.Ack || f.type === FrameType.Error) return f;
  }
}

async function join(conn: ClientConnection, identity: DeviceIdentity, channel: number): Promise<void> {
  const ack = await request(conn, FrameType.Join, channel, { members: [identity.deviceId], relay: false });
  expect(ack.type).toBe(FrameType.Ack);
}

async function nextOfType(conn: ClientConnection, type: FrameType): Promise<Frame> {
  for (;;) {
    const f = await conn.nextFrame(10_000);
    if (f.type === type) return f;
  }
}

describe('messaging across two gateways (Join/Msg/Leave as the real client sends them, spec Appendix B)', () => {
  test('two devices on different gateways chat on a channel; acks follow the reply counter', async () => {
    const alice = newIdentity('alice');
    const bob = newIdentity('bob');
    const a = await connectTo(fleet, alice, { gateway: 0 });
    const b = await connectTo(fleet, bob, { gateway: 1 });
    // Join merges (deviation from the reference, which replaced the route and cut Alice off).
    const joinAck = await request(a, FrameType.Join, 5, { members: [alice.deviceId], relay: false });
    expect(joinAck).toMatchObject({ type: FrameType.Ack, channel: 5, sequence: 3, payload: { value: { ack: 3 } } });
    await join(b, bob, 5);

    const seq = a.sendOpaque(FrameType.Msg, 5, Buffer.from('hello bob'));
    const [ack, received] = await Promise.all([nextOfType(a, FrameType.Ack), nextOfType(b, FrameType.Msg)]);
    expect(control(ack)).toEqual({ ack: seq });
    expect(ack.sequence).toBe(4);
    expect(received).toMatchObject({ channel: 5, sequence: 1 });
    expect(text(received)).toBe('hello bob');

    b.sendOpaque(FrameType.Msg, 5, Buffer.from('hi alice'));
    expect(text(await nextOfType(a, FrameType.Msg))).toBe('hi alice');
    await a.close();
    await b.close();
  });

  test('a non-member gets a not_member Error and stays connected', async () => {
    const carol = newIdentity('carol');
    const c = await connectTo(fleet, carol);
    c.sendOpaque(FrameType.Msg, 4242, Buffer.from('let me in'));
    const error = await nextOfType(c, FrameType.Error);
    expect(control(error)).toMatchObject({ error: 'not_member', channel: 4242 });
    expect(c.isClosed).toBe(false);
    await c.close();
  });

  test('a message for an offline member waits in its inbox and arrives on reconnect', async () => {
    const dave = newIdentity('dave');
    const erin = newIdentity('erin');
    const d = await connectTo(fleet, dave, { gateway: 0 });
    let e = await connectTo(fleet, erin, { gateway: 1 });
    await join(d, dave, 6);
    await join(e, erin, 6);
    await e.close();
    d.sendOpaque(FrameType.Msg, 6, Buffer.from('while you were away'));
    await nextOfType(d, FrameType.Ack); // acknowledged only once stored
    e = await connectTo(fleet, erin, { gateway: 0 });
    expect(text(await nextOfType(e, FrameType.Msg))).toBe('while you were away');
    await d.close();
    await e.close();
  });

  test('leave removes only the leaver', async () => {
    const f1 = newIdentity('f1');
    const f2 = newIdentity('f2');
    const x = await connectTo(fleet, f1);
    const y = await connectTo(fleet, f2);
    await join(x, f1, 7);
    await join(y, f2, 7);
    expect((await request(x, FrameType.Leave, 7, {})).type).toBe(FrameType.Ack);
    y.sendOpaque(FrameType.Msg, 7, Buffer.from('anyone?'));
    expect((await nextOfType(y, FrameType.Ack)).type).toBe(FrameType.Ack);
    x.sendOpaque(FrameType.Msg, 7, Buffer.from('I left'));
    expect(control(await nextOfType(x, FrameType.Error))).toMatchObject({ error: 'not_member' });
    await x.close();
    await y.close();
  });
});
