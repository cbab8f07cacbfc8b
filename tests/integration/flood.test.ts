import { FrameType, type Frame, type JsonValue } from '@commucat/ccp1';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';

jest.setTimeout(60_000);
let fleet: TestFleet;
beforeAll(async () => { fleet = await TestFleet.start({ env: { COMMUCAT_RATE_FRAME_RATE: '50', COMMUCAT_RATE_FRAME_BURST: '100' } }); });
afterAll(() => fleet?.stop());

const control = (f: Frame) => (f.payload.kind === 'control' ? (f.payload.value as Record<string, JsonValue>) : {});

test('a device flooding frames is throttled with a rate_limited Error; another device is unaffected', async () => {
  const flooder = await connectTo(fleet, newIdentity('flooder'));
  const bystanderIdentity = newIdentity('calm');
  const bystander = await connectTo(fleet, bystanderIdentity);

  for (let i = 0; i < 2000; i++) flooder.sendControl(FrameType.Leave, 99, {});
  const answers: Frame[] = [];
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    try {
      answers.push(await flooder.nextFrame(Math.max(1, deadline - Date.now())));
    } catch {
      break;
    }
  }
  const acks = answers.filter((f) => f.type === FrameType.Ack).length;
  const limited = answers.filter((f) => f.type === FrameType.Error && control(f).error === 'rate_limited');
  expect(limited.length).toBeGreaterThanOrEqual(1);
  expect(limited.length).toBeLessThanOrEqual(5); // one notice a second, not one per dropped frame
  // the burst of 100 plus what 50/s refills while we send and listen; far fewer than 2000
  expect(acks).toBeGreaterThanOrEqual(100);
  expect(acks).toBeLessThan(400);
  expect(flooder.isClosed).toBe(false);

  bystander.sendControl(FrameType.Join, 12, { members: [bystanderIdentity.deviceId], relay: false });
  let reply: Frame;
  do reply = await bystander.nextFrame(5000); while (reply.type !== FrameType.Ack);
  expect(control(reply)).toMatchObject({ ack: expect.any(Number) });
  await flooder.close();
  await bystander.close();
});
