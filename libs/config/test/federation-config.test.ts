import { loadConfig } from '@commucat/config';
import { loadError, MINIMAL_ENV, tomlScratch } from './helpers';

const scratch = tomlScratch();
afterAll(() => scratch.cleanup());

const KEY_A = 'AB'.repeat(32);
const KEY_B = '0c'.repeat(32);


describe('federation config', () => {
  it('defaults to no peers and the documented knobs', () => {
    const config = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV } });
    expect(config.federation).toEqual({
      peers: [],
      freshnessSeconds: 300,
      inboundRetentionSeconds: 86400,
      maxAttempts: 12,
      backoffBaseMs: 1000,
      backoffMaxMs: 300000,
      perPeerConcurrency: 4,
      dispatchIntervalMs: 1000,
      tlsRejectUnauthorized: true,
    });
  });

  it('reads [[federation.peers]] tables, lower-casing domain and key', () => {
    const path = scratch.write(
      `[[federation.peers]]\ndomain = "Remote.Example"\nurl = "https://remote.example:8443"\npublic_key = "${KEY_A}"\n` +
        `[[federation.peers]]\ndomain = "other.example"\nurl = "https://other.example"\npublic_key = "${KEY_B}"\n` +
        `[federation]\nfreshness_seconds = 60\nper_peer_concurrency = 1\n`,
    );
    const config = loadConfig({ path, env: { ...MINIMAL_ENV } });
    expect(config.federation.peers).toEqual([
      { domain: 'remote.example', url: 'https://remote.example:8443', publicKey: KEY_A.toLowerCase() },
      { domain: 'other.example', url: 'https://other.example', publicKey: KEY_B },
    ]);
    expect(config.federation.freshnessSeconds).toBe(60);
    expect(config.federation.perPeerConcurrency).toBe(1);
  });

  it('reads COMMUCAT_FEDERATION_PEERS as JSON or as the reference form, env over file', () => {
    const path = scratch.write(`[[federation.peers]]\ndomain = "file.example"\nurl = "https://file.example"\npublic_key = "${KEY_A}"\n`);
    const json = JSON.stringify([{ domain: 'json.example', url: 'https://json.example', public_key: KEY_B }]);
    expect(loadConfig({ path, env: { ...MINIMAL_ENV, COMMUCAT_FEDERATION_PEERS: json } }).federation.peers).toEqual([
      { domain: 'json.example', url: 'https://json.example', publicKey: KEY_B },
    ]);
    const reference = `a.example,https://a.example/federation,${KEY_A};b.example,https://b.example,${KEY_B}`;
    expect(loadConfig({ path, env: { ...MINIMAL_ENV, COMMUCAT_FEDERATION_PEERS: reference } }).federation.peers.map((p) => p.domain)).toEqual(['a.example', 'b.example']);
  });

  it.each([
    ['a plain-http URL', `a.example,http://a.example,${KEY_A}`],
    ['a short key', 'a.example,https://a.example,abcd'],
    ['a missing part', `a.example,${KEY_A}`],
    ['a bad domain', `a example,https://a.example,${KEY_A}`],
    ['JSON that is not a list of tables', '[1]'],
    ['JSON missing public_key', '[{"domain":"a.example","url":"https://a.example"}]'],
  ])('rejects %s and names the key', (_what, value) => {
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_FEDERATION_PEERS: value } }));
    expect(error.message.startsWith('invalid config federation.peers (COMMUCAT_FEDERATION_PEERS): expected')).toBe(true);
  });
});
