import { BusError, connectBus, defineSubject, type Bus } from '../src';
import { jsonCodec, natsUrl, uniqueToken } from './support/stack';

const run = uniqueToken('ns');
const note = defineSubject('test.note', `commucat.test.${run}.note`, jsonCodec<{ n: number }>());

describe('bus namespaces', () => {
  const buses: Bus[] = [];
  const open = async (namespace?: string) => {
    const bus = await connectBus({ servers: natsUrl(), name: `ns-${namespace ?? 'none'}`, namespace });
    buses.push(bus);
    return bus;
  };
  afterAll(async () => { await Promise.all(buses.map((b) => b.close())); });

  test('buses hear only their own namespace', async () => {
    const [a1, a2, b, bare] = await Promise.all([open('fleet_a'), open('fleet_a'), open('fleet-b'), open()]);
    const got: Record<string, number[]> = { a2: [], b: [], bare: [] };
    a2.subscribe(note, {}, (m) => { got.a2!.push(m.n); });
    b.subscribe(note, {}, (m) => { got.b!.push(m.n); });
    bare.subscribe(note, {}, (m) => { got.bare!.push(m.n); });
    await Promise.all([a2.ready(), b.ready(), bare.ready()]);
    a1.publish(note, {}, { n: 1 });
    bare.publish(note, {}, { n: 2 });
    await a1.ready();
    await bare.ready();
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual({ a2: [1], b: [], bare: [2] });
  });

  test('a namespace that is not one subject token is refused', async () => {
    await expect(connectBus({ servers: natsUrl(), name: 'bad', namespace: 'a.b' })).rejects.toBeInstanceOf(BusError);
  });
});
