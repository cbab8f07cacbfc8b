import { controlFrame, encodeFrame, FrameType } from '@commucat/ccp1';
import type { Delivery, Notice } from '@commucat/contracts';
import { newId, RouterHarness, type GatewayEvent } from './support/router-harness';

jest.setTimeout(30_000);
let h: RouterHarness;
beforeAll(async () => {
  h = await RouterHarness.start();
  await h.ready();
});
afterAll(() => h?.stop());

const NOTIFY_CHANNEL = 0;
const deliveryTo = (deviceId: string) => (e: GatewayEvent) => e.kind === 'delivery' && e.delivery.deviceId === deviceId;
const asDelivery = (e: GatewayEvent): Delivery => (e as Extract<GatewayEvent, { kind: 'delivery' }>).delivery;

function keyUpdateNotice(deviceIds: string[], queue: boolean): Notice {
  const rotationId = newId('rot');
  const frame = encodeFrame(controlFrame(FrameType.KeyUpdate, NOTIFY_CHANNEL, 0, { type: 'device-key-rotated', rotation_id: rotationId }));
  return { deviceIds, frame, messageId: `keyupdate:${rotationId}`, channelId: NOTIFY_CHANNEL, queue };
}

async function onlineDevice(): Promise<{ device: string; conn: string }> {
  const device = { device: newId('dev-on'), conn: newId('conn') };
  await h.online(device.device, device.conn);
  return device;
}

describe('notices', () => {
  test('a queued notice is stored for every device, delivered live to the online ones, and stored once when handled twice', async () => {
    const online = await onlineDevice();
    const offline = newId('dev-off');
    const notice = keyUpdateNotice([online.device, offline, online.device], true);

    const from = h.events.length;
    await h.notify(notice);
    const first = asDelivery(await h.next(deliveryTo(online.device), from));
    expect(first).toMatchObject({ connectionId: online.conn, messageId: notice.messageId });
    expect(first.relaySeq).toBeGreaterThan(0);
    expect(Buffer.from(first.frame).equals(notice.frame)).toBe(true);

    // The online device's envelope was enqueued in the same relay call as the offline one's.
    const queued = await h.relayQueue.drain(offline);
    expect(queued.envelopes).toHaveLength(1);
    expect(queued.envelopes[0]).toMatchObject({ messageId: notice.messageId, channelId: NOTIFY_CHANNEL, senderDeviceId: '' });
    expect(Buffer.from(queued.envelopes[0]!.frame).equals(notice.frame)).toBe(true);

    // A redelivered notice (the directory's publish retried, or a router died before acking).
    const again = h.events.length;
    await h.notify(notice);
    const second = asDelivery(await h.next(deliveryTo(online.device), again));
    expect(second.relaySeq).toBe(first.relaySeq); // the same envelope: the gateway writes it once
    expect(await h.relayQueue.depth(online.device)).toBe(1);
    expect(await h.relayQueue.depth(offline)).toBe(1);
    expect(h.events.slice(from).filter(deliveryTo(online.device))).toHaveLength(2);
  });

  test('a live-only notice reaches the online devices and queues nothing', async () => {
    const online = await onlineDevice();
    const offline = newId('dev-off');
    const notice = keyUpdateNotice([online.device, offline], false);

    const from = h.events.length;
    await h.notify(notice);
    const delivery = asDelivery(await h.next(deliveryTo(online.device), from));
    expect(delivery).toMatchObject({ connectionId: online.conn, messageId: notice.messageId, relaySeq: 0 });
    expect(await h.relayQueue.depth(online.device)).toBe(0);
    expect(await h.relayQueue.depth(offline)).toBe(0);
    expect(h.events.slice(from).some(deliveryTo(offline))).toBe(false);
  });
});
