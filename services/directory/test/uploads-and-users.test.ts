import * as grpc from '@grpc/grpc-js';
import { DeviceKeyPair, blake3, x25519PublicKey } from '@commucat/crypto';
import { DirectoryError } from '../src/directory-errors';
import { sniffImageType } from '@commucat/storage';
import { MAX_IMAGE_BYTES, UploadService } from '../src/upload-service';
import { DirectoryHarness } from './support/directory-harness';

const h = new DirectoryHarness();

beforeAll(() => h.start('dirup'));
afterAll(() => h.stop());

const withBody = (magic: number[] | string, size = 64): Buffer => {
  const head = typeof magic === 'string' ? Buffer.from(magic, 'latin1') : Buffer.from(magic);
  return Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), 0x5a)]);
};
const JPEG = withBody([0xff, 0xd8, 0xff, 0xe0]);
const PNG = withBody([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const GIF = withBody('GIF89a');
const WEBP = withBody('RIFF\x24\x00\x00\x00WEBPVP8 ');
const nameOf = (data: Buffer, ext: string) => `${blake3(data).subarray(0, 8).toString('hex')}.${ext}`;

describe('image types by magic bytes', () => {
  test('JPEG, PNG, GIF (87a and 89a) and WebP are recognised; anything else is not', () => {
    expect(sniffImageType(JPEG)).toEqual({ contentType: 'image/jpeg', extension: 'jpg' });
    expect(sniffImageType(PNG)).toEqual({ contentType: 'image/png', extension: 'png' });
    expect(sniffImageType(GIF)).toEqual({ contentType: 'image/gif', extension: 'gif' });
    expect(sniffImageType(withBody('GIF87a'))).toEqual({ contentType: 'image/gif', extension: 'gif' });
    expect(sniffImageType(WEBP)).toEqual({ contentType: 'image/webp', extension: 'webp' });
    for (const other of [Buffer.alloc(0), Buffer.from([0xff, 0xd8]), withBody('RIFF\x24\x00\x00\x00WAVEfmt '), withBody('<svg xmlns="http://www.w3.org/2000/svg">'), withBody('GIF90a'), withBody([0x89, 0x50, 0x4e, 0x47])]) {
      expect(sniffImageType(other)).toBeUndefined();
    }
  });
});

describe('SetAvatar / GetUpload', () => {
  test('stores each type under its content address, serves it back, and points the profile at it', async () => {
    for (const [image, ext, contentType] of [[JPEG, 'jpg', 'image/jpeg'], [PNG, 'png', 'image/png'], [GIF, 'gif', 'image/gif'], [WEBP, 'webp', 'image/webp']] as const) {
      const user = await h.signUp('pic');
      const res = await h.rpc('setAvatar', { userId: user.userId, image });
      expect(res).toEqual({ filename: nameOf(image, ext), avatarUrl: `/uploads/${nameOf(image, ext)}` });
      const served = await h.rpc('getUpload', { filename: res.filename });
      expect(served.contentType).toBe(contentType);
      expect(Buffer.from(served.data).equals(image)).toBe(true);
      const profile = await h.db.pool.query('SELECT avatar_url FROM app_user WHERE user_id = $1', [user.userId]);
      expect(profile.rows[0].avatar_url).toBe(res.avatarUrl);
    }
  });

  test('a new avatar replaces the old one, whose file goes unless someone else still uses it', async () => {
    const [una, vic] = [await h.signUp('una'), await h.signUp('vic')];
    const first = await h.rpc('setAvatar', { userId: una.userId, image: PNG });
    await h.rpc('setAvatar', { userId: vic.userId, image: PNG });
    const unique = withBody([0xff, 0xd8, 0xff, 0xdb], 200);
    const second = await h.rpc('setAvatar', { userId: una.userId, image: unique });
    // vic still shows the PNG, so it stays
    expect((await h.rpc('getUpload', { filename: first.filename })).contentType).toBe('image/png');
    const third = await h.rpc('setAvatar', { userId: una.userId, image: GIF });
    expect(await h.refusal('getUpload', { filename: second.filename })).toEqual({ status: grpc.status.NOT_FOUND, code: 'upload_not_found' });
    expect((await h.db.pool.query('SELECT filename FROM user_avatar WHERE user_id = $1', [una.userId])).rows).toEqual([{ filename: third.filename }]);
    // the same picture again is a no-op, not a deletion of itself
    await h.rpc('setAvatar', { userId: una.userId, image: GIF });
    expect((await h.rpc('getUpload', { filename: third.filename })).contentType).toBe('image/gif');
  });

  test('anything that is not one of the four image types is refused, whatever it claims to be', async () => {
    const wes = await h.signUp('wes');
    for (const image of [Buffer.alloc(0), withBody('<svg onload="alert(1)">'), withBody('%PDF-1.7'), withBody('GIF90a')]) {
      expect(await h.refusal('setAvatar', { userId: wes.userId, image })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'image_type_unsupported' });
    }
    expect((await h.db.pool.query('SELECT avatar_url FROM app_user WHERE user_id = $1', [wes.userId])).rows[0].avatar_url).toBeNull();
    expect(await h.refusal('setAvatar', { userId: 'nobody', image: JPEG })).toEqual({ status: grpc.status.NOT_FOUND, code: 'user_not_found' });
    expect(await h.refusal('setAvatar', { userId: '', image: JPEG })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'user_id_required' });
  });

  test('5 MiB is the limit', async () => {
    // Called on the service itself: gRPC's default 4 MiB message limit is the transport's business.
    const uploads = new UploadService(h.db.pool);
    const xan = await h.signUp('xan');
    const atLimit = withBody([0xff, 0xd8, 0xff, 0xe0], MAX_IMAGE_BYTES);
    expect(MAX_IMAGE_BYTES).toBe(5 * 1024 * 1024);
    await expect(uploads.setAvatar({ userId: xan.userId, image: atLimit })).resolves.toMatchObject({ filename: nameOf(atLimit, 'jpg') });
    const over = withBody([0xff, 0xd8, 0xff, 0xe0], MAX_IMAGE_BYTES + 1);
    const err = await uploads.setAvatar({ userId: xan.userId, image: over }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryError);
    expect(err).toMatchObject({ code: 'image_too_large', grpcStatus: grpc.status.INVALID_ARGUMENT });
  });

  test('GetUpload refuses path tricks and unknown names', async () => {
    for (const filename of ['../etc/passwd', 'a/b.png', 'a\\b.png', '..', '']) {
      expect(await h.refusal('getUpload', { filename })).toEqual({ status: grpc.status.PERMISSION_DENIED, code: 'upload_name_forbidden' });
    }
    expect(await h.refusal('getUpload', { filename: '0123456789abcdef.png' })).toEqual({ status: grpc.status.NOT_FOUND, code: 'upload_not_found' });
  });
});

describe('RegisterUser', () => {
  test('a new user with a unique handle and no devices', async () => {
    const res = await h.rpc('registerUser', { handle: 'yara-registered', displayName: '  Yara  ' });
    expect(res).toMatchObject({ handle: 'yara-registered', displayName: 'Yara', domain: 'example.org' });
    expect(res.userId).toMatch(/^[0-9a-f]{64}$/);
    expect((await h.rpc('listDevices', { userId: res.userId, currentDeviceId: '' })).devices).toEqual([]);
    expect(await h.refusal('registerUser', { handle: 'yara-registered' })).toEqual({ status: grpc.status.ALREADY_EXISTS, code: 'handle_taken' });
    // a Hello naming the handle now needs pairing: the registration owns it
    const keys = DeviceKeyPair.generate();
    const hello = await h.authorizer().authorize({ deviceId: 'dev-yara', devicePublic: keys.publicKey, clientStatic: x25519PublicKey(keys.privateKey), handleHint: 'yara-registered' });
    expect(hello.pairingRequired).toBe(true);
    expect(hello.sessionToken).toBe('');
  });

  test('handles are validated like a Hello\'s', async () => {
    for (const handle of ['', 'has space', 'at@sign', 'tab\tchar', 'x'.repeat(65)]) {
      expect(await h.refusal('registerUser', { handle })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'handle_invalid' });
    }
    expect(await h.refusal('registerUser', { handle: 'zed-long-name', displayName: 'n'.repeat(129) })).toEqual({ status: grpc.status.INVALID_ARGUMENT, code: 'display_name_too_long' });
    await expect(h.rpc('registerUser', { handle: 'x'.repeat(64) })).resolves.toMatchObject({ handle: 'x'.repeat(64) });
  });

  test('two registrations of one handle at once: one wins', async () => {
    const outcomes = await Promise.allSettled([h.rpc('registerUser', { handle: 'race-handle' }), h.rpc('registerUser', { handle: 'race-handle' })]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect((await h.db.pool.query("SELECT count(*)::int AS n FROM app_user WHERE handle = 'race-handle'")).rows[0].n).toBe(1);
  });
});
