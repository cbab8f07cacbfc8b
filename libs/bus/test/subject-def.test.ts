import { PresenceChanged } from '@commucat/contracts';
import { BusError, defineSubject, protoCodec, Subjects } from '../src';
import { jsonCodec } from './support/stack';

describe('defineSubject', () => {
  const deliver = defineSubject('gateway.deliver', 'commucat.gateway.{gatewayId}.deliver', jsonCodec<{ n: number }>());
  const pair = defineSubject('test.pair', 'commucat.{a}.x.{b}', jsonCodec<string>());

  it('builds concrete subjects from named parameters', () => {
    expect(deliver.subject({ gatewayId: 'gw-1' })).toBe('commucat.gateway.gw-1.deliver');
    expect(pair.subject({ a: 'one', b: 'two' })).toBe('commucat.one.x.two');
    expect(deliver.params).toEqual(['gatewayId']);
    expect(deliver.name).toBe('gateway.deliver');
  });

  it('turns every placeholder into a single-token wildcard', () => {
    expect(deliver.wildcard()).toBe('commucat.gateway.*.deliver');
    expect(pair.wildcard()).toBe('commucat.*.x.*');
    const plain = defineSubject('presence.changed', 'commucat.presence.changed', jsonCodec<string>());
    expect(plain.wildcard()).toBe('commucat.presence.changed');
    expect(plain.subject({})).toBe('commucat.presence.changed');
  });

  it.each(['', 'a.b', 'a*', '>', 'has space', 'tab\t', 'new\nline'])('rejects parameter value %j', (value) => {
    const err = (() => {
      try {
        deliver.subject({ gatewayId: value });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe('invalid_subject_param');
  });

  it('rejects a missing parameter at run time too', () => {
    expect(() => deliver.subject({} as { gatewayId: string })).toThrow(expect.objectContaining({ code: 'invalid_subject_param' }));
  });

  it.each(['commucat..x', 'commucat.*.x', 'commucat.>', 'commucat.{a}.{a}', 'commucat.x{a}', 'commucat.{1a}', 'commu cat'])('rejects pattern %j', (pattern) => {
    expect(() => defineSubject('bad', pattern, jsonCodec<string>())).toThrow(expect.objectContaining({ code: 'invalid_subject' }));
  });
});

describe('protoCodec', () => {
  it('round-trips a generated ts-proto message through bytes', () => {
    const codec = protoCodec(PresenceChanged);
    const message = PresenceChanged.create({ deviceId: 'dev-1', userId: 'u', state: 'online', gatewayId: 'gw', connectionId: 'c', at: 1_700_000_000_000 });
    const bytes = codec.encode(message);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBeGreaterThan(0);
    expect(codec.decode(bytes)).toEqual(message);
  });

  it('throws on bytes that are not the message', () => {
    const codec = protoCodec(PresenceChanged);
    expect(() => codec.decode(new Uint8Array([0x0a, 0xff, 0xff, 0xff]))).toThrow();
  });
});

describe('Subjects catalogue', () => {
  it('only holds subject definitions with unique patterns', () => {
    const defs = Object.values(Subjects) as Array<{ pattern: string; wildcard(): string }>;
    expect(new Set(defs.map((d) => d.pattern)).size).toBe(defs.length);
    for (const def of defs) expect(def.wildcard().startsWith('commucat.')).toBe(true);
  });
});
