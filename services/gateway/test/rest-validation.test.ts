import { validateBody, parseJsonBody } from '../src/rest/validation';
import { ClaimPairingRequest, CreatePairingRequest, P2pAssistRequest, PutFriendsRequest, RevokeDeviceRequest } from '../src/rest/schemas';
import { RestError } from '../src/rest/problems';
import { decodePathParam } from '../src/rest/route';
import { friendTarget } from '../src/rest/friend-routes';
import { mediaType, sniffImageType } from '../src/rest/image-type';
import { planPaths, sampleSegments } from '../src/rest/p2p-assist';

function problemOf(fn: () => unknown): { status: number; code: string; detail?: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof RestError) return { status: err.status, code: err.code, detail: err.detail };
    throw err;
  }
  throw new Error('expected a RestError');
}

describe('request validation', () => {
  test('the real client\'s PUT /api/friends body passes: handle and alias may be null (M1)', () => {
    const body = validateBody(PutFriendsRequest, { friends: [{ user_id: 'u1', handle: null, alias: null }, { user_id: 'u2', handle: 'bob', alias: 'Bobby' }] });
    expect(body.friends).toHaveLength(2);
  });

  test('unknown fields are 400 unknown-field naming the field with its path', () => {
    expect(problemOf(() => validateBody(RevokeDeviceRequest, { device_id: 'd', extra: 1 }))).toEqual({ status: 400, code: 'unknown-field', detail: 'unknown field: extra' });
    expect(problemOf(() => validateBody(PutFriendsRequest, { friends: [{ user_id: 'u', nick: 'x' }] })).detail).toBe('unknown field: friends[0].nick');
  });

  test('wrong types are 400 invalid-field naming the field', () => {
    const p = problemOf(() => validateBody(RevokeDeviceRequest, { device_id: 42 }));
    expect(p.status).toBe(400);
    expect(p.code).toBe('invalid-field');
    expect(p.detail).toMatch(/^device_id: /);
    expect(problemOf(() => validateBody(PutFriendsRequest, { friends: [{ user_id: 'u', alias: 3 }] })).detail).toMatch(/^friends\[0\]\.alias: /);
    expect(problemOf(() => validateBody(RevokeDeviceRequest, [])).detail).toMatch(/^body: /);
  });

  test('pair ttl must be a positive integer or null', () => {
    expect(validateBody(CreatePairingRequest, { ttl: null })).toEqual({ ttl: null });
    expect(validateBody(CreatePairingRequest, {})).toEqual({});
    expect(problemOf(() => validateBody(CreatePairingRequest, { ttl: 0 })).detail).toMatch(/^ttl: /);
    expect(problemOf(() => validateBody(CreatePairingRequest, { ttl: 1.5 })).detail).toMatch(/^ttl: /);
  });

  test('a claim with a client key needs both device_public and device_signature', () => {
    const pub = 'ab'.repeat(32);
    expect(problemOf(() => validateBody(ClaimPairingRequest, { pair_code: 'ABCD-EFGH', device_public: pub })).detail).toMatch(/^device_signature: /);
    expect(validateBody(ClaimPairingRequest, { pair_code: 'ABCD-EFGH', device_public: pub.toUpperCase(), device_signature: 'cd'.repeat(64), device_name: null }).pair_code).toBe('ABCD-EFGH');
    expect(problemOf(() => validateBody(ClaimPairingRequest, { pair_code: 'ABCD-EFGH', device_public: 'zz', device_signature: 'cd'.repeat(64) })).detail).toMatch(/^device_public: /);
  });

  test('assist accepts the legacy client\'s body with nulls everywhere (M3) and rejects a null address clearly', () => {
    const legacy = {
      peer_hint: null,
      paths: [{ address: '127.0.0.1', id: 'hint-1', port: 3478, server_name: 'https://example.org', priority: 1, reality_fingerprint: null, reality_pem: null }],
      prefer_reality: null, fec: { mtu: 1200, repair_overhead: 0.18 }, min_paths: 1,
    };
    expect(validateBody(P2pAssistRequest, legacy).paths).toHaveLength(1);
    const p = problemOf(() => validateBody(P2pAssistRequest, { paths: [{ address: null }] }));
    expect(p.detail).toBe('paths[0].address: address is required');
    expect(problemOf(() => validateBody(P2pAssistRequest, { prefer_reality: 'yes' })).detail).toMatch(/^prefer_reality: /);
  });

  test('bad JSON is 400 invalid-json', () => {
    expect(problemOf(() => parseJsonBody(Buffer.from('{"a":')))).toEqual({ status: 400, code: 'invalid-json', detail: 'invalid JSON payload' });
  });
});

describe('path parameters', () => {
  test('percent-decoding is strict and never empty', () => {
    expect(decodePathParam('alice%40example.org')).toBe('alice@example.org');
    expect(decodePathParam('a+b')).toBe('a+b');
    expect(decodePathParam('%C3%A9')).toBe('é');
    expect(decodePathParam('%zz')).toBeUndefined();
    expect(decodePathParam('abc%4')).toBeUndefined();
    expect(decodePathParam('%FF')).toBeUndefined();
  });

  test('friend request targets: own domain (any case) or none is local, other domains pass through whole', () => {
    expect(friendTarget('bob', 'example.org')).toBe('bob');
    expect(friendTarget('bob@Example.ORG', 'example.org')).toBe('bob');
    expect(friendTarget('bob@', 'example.org')).toBe('bob');
    expect(friendTarget('bob@other.net', 'example.org')).toBe('bob@other.net');
    // split at the last @: the domain is what follows it
    expect(friendTarget('a@b@example.org', 'example.org')).toBe('a@b');
    expect(friendTarget('a@example.org@other.net', 'example.org')).toBe('a@example.org@other.net');
  });
});

describe('avatar types', () => {
  test('magic bytes decide the type, whatever the label says', () => {
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0]))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from('89504e470d0a1a0a0000', 'hex'))).toBe('image/png');
    expect(sniffImageType(Buffer.from('GIF89a....'))).toBe('image/gif');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(Buffer.from('<svg onload=alert(1)>'))).toBeUndefined();
    expect(mediaType('Image/PNG; charset=x')).toBe('image/png');
    expect(mediaType(undefined)).toBeUndefined();
  });
});

describe('p2p assist planning', () => {
  test('default paths are the server and a backup, and nothing is derived from probing', () => {
    expect(planPaths({}, 'example.org').map((p) => `${p.id}:${p.address}:${p.port}`)).toEqual(['primary:example.org:443', 'backup:relay.example.org:443']);
    expect(planPaths({ peer_hint: '10.0.0.1' }, 'example.org')[1]!.address).toBe('10.0.0.1');
  });

  test('caller paths are sorted by priority, stable, with defaults filled in', () => {
    const plan = planPaths({ paths: [{ address: 'a', priority: 5 }, { address: 'b' }, { address: 'c', priority: 5, id: 'x' }] }, 'd');
    expect(plan.map((p) => p.id)).toEqual(['path-1', 'x', 'path-2']);
    expect(plan[2]).toMatchObject({ port: 443, priority: 100 });
  });

  test('FEC sample: sources round-robin over all paths, repairs over the non-primary ones', () => {
    expect(sampleSegments(['p', 'b'], 0.35)).toEqual({ p: { total: 2, repair: 0 }, b: { total: 3, repair: 2 } });
    expect(sampleSegments(['only'], 0.25)).toEqual({ only: { total: 4, repair: 1 } });
    expect(sampleSegments(['p', 'b'], 0)).toEqual({ p: { total: 2, repair: 0 }, b: { total: 1, repair: 0 } });
  });
});
