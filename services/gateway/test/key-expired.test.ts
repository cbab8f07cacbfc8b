import { HandshakeError, KEY_EXPIRED_DETAIL, keyExpired } from '../src/handshake-error';

describe('key_expired handshake error', () => {
  test('keeps the handshake Error frame shape and tells the client to refetch server-info', () => {
    const err = keyExpired(3);
    expect(err).toBeInstanceOf(HandshakeError);
    expect(err.kind).toBe('key_expired');
    expect(err.reason).toMatch(/version 3/);
    expect(err.toErrorPayload()).toEqual({
      code: 'key_expired', detail: KEY_EXPIRED_DETAIL, error: 'handshake', key_expired: true, server_info: '/api/server-info', title: 'KeyExpired',
    });
    expect(KEY_EXPIRED_DETAIL).toBe('server key expired: refetch /api/server-info');
    // Other handshake errors are unchanged.
    expect(new HandshakeError('invalid', 'x').toErrorPayload()).toEqual({ detail: 'invalid request', error: 'handshake' });
  });
});
