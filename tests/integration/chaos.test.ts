import { FrameType, type Frame } from '@commucat/ccp1';
import { fetchServerInfo, ReliableClient } from '@commucat/client';
import { TestFleet } from '../support/fleet';
import { newIdentity } from '../support/fleet-client';

/**
 * Issue 3's chaos check: 10,000 messages among 50 devices on 2 gateways while the router, the
 * relay and one gateway are killed with SIGKILL and restarted, one at a time, at random moments.
 * Every device must end up with every message addressed to it exactly once, in channel order.
 */
jest.setTimeout(600_000);

const DEVICES = 50;
const CHANNEL_SIZE = 5;
const MESSAGES = 10_000;
const PER_DEVICE = MESSAGES / DEVICES;
/** Messages a device has on the wire unanswered at once. */
const WINDOW = 4;
const FIRST_CHANNEL = 700;
const VICTIMS = ['router', 'relay', 'gateway-1'] as const;
const KILLS_PER_VICTIM = 2;

interface Device {
  readonly index: number;
  readonly channel: number;
  readonly client: ReliableClient;
  /** Per channel, the messages received, in arrival order, as "sender:n". */
  readonly received: Map<number, string[]>;
}

let fleet: TestFleet;
beforeAll(async () => { fleet = await TestFleet.start({ gateways: 2 }); });
afterAll(() => fleet?.stop());

/** A small seeded generator, so a failing run can be repeated with the seed it printed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function openDevice(index: number, serverStatic: Buffer): Promise<Device> {
  // Devices alternate between the gateways; after a drop they move on to the next one.
  const urls = [fleet.gatewayUrl(index % 2), fleet.gatewayUrl((index + 1) % 2)];
  const client = await ReliableClient.open({
    urls, domain: fleet.domain, serverStatic, identity: newIdentity(`chaos${index}`), ca: fleet.tlsCert, resendAfterMs: 15_000,
  });
  const device: Device = { index, channel: FIRST_CHANNEL + Math.floor(index / CHANNEL_SIZE), client, received: new Map() };
  void (async () => {
    for (;;) {
      let frame: Frame;
      try {
        frame = await client.nextFrame();
      } catch {
        return; // closed
      }
      if (frame.type !== FrameType.Msg || frame.payload.kind !== 'opaque') continue;
      const list = device.received.get(frame.channel) ?? [];
      list.push(Buffer.from(frame.payload.bytes).toString('utf8'));
      device.received.set(frame.channel, list);
    }
  })();
  return device;
}

async function sendAll(device: Device): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  for (let n = 0; n < PER_DEVICE; n++) {
    const sent: Promise<unknown> = device.client.sendOpaque(FrameType.Msg, device.channel, Buffer.from(`${device.index}:${n}`))
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

function tally(devices: Device[]): { lost: number; duplicated: number; reordered: number; delivered: number } {
  let lost = 0;
  let duplicated = 0;
  let reordered = 0;
  let delivered = 0;
  const byChannel = new Map<number, Device[]>();
  for (const device of devices) byChannel.set(device.channel, [...(byChannel.get(device.channel) ?? []), device]);
  for (const [channel, members] of byChannel) {
    // The order the first member saw; every other member must see their common messages the same way.
    let reference: Map<string, number> | undefined;
    for (const device of members) {
      const got = device.received.get(channel) ?? [];
      delivered += got.length;
      const unique = new Set(got);
      duplicated += got.length - unique.size;
      for (const other of members) {
        if (other === device) continue;
        for (let n = 0; n < PER_DEVICE; n++) if (!unique.has(`${other.index}:${n}`)) lost += 1;
      }
      // Each sender's messages in the order it sent them.
      const lastBySender = new Map<string, number>();
      for (const entry of got) {
        const [sender, n] = entry.split(':');
        const last = lastBySender.get(sender!) ?? -1;
        if (Number(n) <= last) reordered += 1;
        lastBySender.set(sender!, Math.max(last, Number(n)));
      }
      // All members agree on the channel's interleaving (one order per channel).
      if (!reference) {
        reference = new Map(got.map((entry, i) => [entry, i]));
      } else {
        let previous = -1;
        for (const entry of got) {
          const at = reference.get(entry);
          if (at === undefined) continue;
          if (at < previous) reordered += 1;
          previous = Math.max(previous, at);
        }
      }
    }
  }
  return { lost, duplicated, reordered, delivered };
}

test('10,000 messages among 50 devices on 2 gateways survive kill -9 of the router, the relay and a gateway: none lost, duplicated or reordered', async () => {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
  const random = seeded(seed);
  const info = await fetchServerInfo(fleet.gatewayUrl(0), { ca: fleet.tlsCert });
  const serverStatic = Buffer.from(info.noise_public as string, 'hex');

  const devices: Device[] = [];
  for (let i = 0; i < DEVICES; i++) devices.push(await openDevice(i, serverStatic));
  // Join as the real client does: declaring only itself (joins merge).
  await Promise.all(devices.map((d) => d.client.sendControl(FrameType.Join, d.channel, { members: [], relay: true })));

  const started = Date.now();
  let sendingDone = false;
  const sending = Promise.all(devices.map(sendAll)).finally(() => { sendingDone = true; });

  // Each victim KILLS_PER_VICTIM times, every round in a random order, at random moments while traffic flows.
  const shuffled = () => [...VICTIMS].map((v) => ({ v, key: random() })).sort((a, b) => a.key - b.key).map(({ v }) => v);
  const schedule = Array.from({ length: KILLS_PER_VICTIM }, shuffled).flat();
  const kills: string[] = [];
  for (const victim of schedule) {
    await new Promise((r) => setTimeout(r, 500 + random() * 2_500));
    if (sendingDone) break;
    const at = Date.now() - started;
    await fleet.restart(victim, 'SIGKILL');
    kills.push(`${victim}@${(at / 1000).toFixed(1)}s`);
  }
  await sending;
  const sentIn = Date.now() - started;

  // Everything is acknowledged to its sender; now wait until every delivery has arrived (or give up and count).
  const deadline = Date.now() + 120_000;
  // Every device should get the messages of the other members of its channel.
  const total = DEVICES * (CHANNEL_SIZE - 1) * PER_DEVICE;
  while (Date.now() < deadline) {
    const received = devices.reduce((sum, d) => sum + (d.received.get(d.channel)?.length ?? 0), 0);
    if (received >= total) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  // A short grace period: a duplicate would arrive after the last expected message.
  await new Promise((r) => setTimeout(r, 1_000));
  const result = tally(devices);
  const reconnects = devices.reduce((sum, d) => sum + d.client.reconnects, 0);
  process.stdout.write(`chaos: seed=${seed} kills=[${kills.join(', ')}] messages=${MESSAGES} deliveries_expected=${total} ` +
    `delivered=${result.delivered} lost=${result.lost} duplicated=${result.duplicated} reordered=${result.reordered} ` +
    `reconnects=${reconnects} all_acked_in=${(sentIn / 1000).toFixed(1)}s\n`);
  await Promise.all(devices.map((d) => d.client.close()));

  expect(kills.length).toBeGreaterThanOrEqual(VICTIMS.length);
  expect({ lost: result.lost, duplicated: result.duplicated, reordered: result.reordered }).toEqual({ lost: 0, duplicated: 0, reordered: 0 });
  expect(result.delivered).toBe(total);
});
