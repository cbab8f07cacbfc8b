import { generateKeyPairSync } from 'node:crypto';
import { dirname } from 'node:path';
import { CONFIG_KEYS, ConfigError, type ConfigKey, loadConfig } from '@commucat/config';
import { loadError, MINIMAL_ENV, tomlScratch } from './helpers';

const scratch = tomlScratch();
afterAll(() => scratch.cleanup());


describe('defaults', () => {
  it('fills every key that has a default when the file is empty', () => {
    const config = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV } });
    expect(config.server).toEqual({
      bind: '127.0.0.1:8443',
      domain: 'example.org',
      autoApproveDevices: false,
      maxAutoDevicesPerUser: 1,
      keepalive: 60,
      sessionTtl: 3600,
      transportEncryption: 'optional',
    });
    expect(config.storage).toEqual({ pgPoolMax: 10 });
    expect(config.crypto).toEqual({ prologue: 'commucat' });
    expect(config.limits).toEqual({ presenceTtl: 30, relayTtl: 86400, pairingTtl: 300 });
    expect(config.security.rotation).toEqual({
      noiseIntervalHours: 168,
      noiseGraceHours: 48,
      noiseMaxVersions: 3,
      adminEnabled: false,
      adminIntervalHours: 168,
      adminGraceHours: 72,
      adminMaxVersions: 2,
      noiseEnabled: false,
      tickSeconds: 60,
    });
    expect(config.ledger).toEqual({ mode: 'null' });
    expect(config.rotation).toEqual({ device: { enabled: true, minInterval: 86400, proofTtl: 600, notifyChannel: 0 } });
    expect(config.security.rateLimit).toEqual({
      httpBurst: 60,
      httpWindowMs: 1000,
      httpPenaltyMs: 10000,
      connectBurst: 20,
      connectWindowMs: 1000,
      connectPenaltyMs: 30000,
      frameRate: 200,
      frameBurst: 400,
      pairingBurst: 5,
      pairingWindowMs: 60000,
      pairingPenaltyMs: 120000,
    });
    expect(config.fleet).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      secretsAddr: '127.0.0.1:7101',
      directoryAddr: '127.0.0.1:7102',
      presenceAddr: '127.0.0.1:7103',
      routerAddr: '127.0.0.1:7104',
      relayAddr: '127.0.0.1:7105',
    });
    expect(config.fleet.gatewayId).toMatch(new RegExp(`^[A-Za-z0-9_-]+-${process.pid}$`));
    expect(config.services).toEqual({
      gateway: { adminBind: '127.0.0.1:9100' },
      secrets: { grpcBind: '127.0.0.1:7101', adminBind: '127.0.0.1:9101' },
      directory: { grpcBind: '127.0.0.1:7102', adminBind: '127.0.0.1:9102' },
      presence: { grpcBind: '127.0.0.1:7103', adminBind: '127.0.0.1:9103' },
      router: { grpcBind: '127.0.0.1:7104', adminBind: '127.0.0.1:9104' },
      relay: { grpcBind: '127.0.0.1:7105', adminBind: '127.0.0.1:9105' },
      media: { grpcBind: '127.0.0.1:7106', adminBind: '127.0.0.1:9106' },
      federation: { grpcBind: '127.0.0.1:7107', adminBind: '127.0.0.1:9107' },
    });
    expect(config.telemetry).toEqual({ logLevel: 'info' });
    expect(config.admin).toEqual({});
    expect(config.warnings).toEqual([]);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV } });
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.services.directory)).toBe(true);
  });
});

describe('TOML file', () => {
  it('reads nested sections and typed values', () => {
    const path = scratch.write(`
[server]
bind = "0.0.0.0:9443"
domain = "chat.example.net"
auto_approve_devices = true
max_auto_devices_per_user = 0
keepalive = 45
transport_encryption = "required"
tls_cert = "/etc/commucat/tls.crt"
tls_key = "/etc/commucat/tls.key"

[storage]
postgres_dsn = "postgres://commucat:pw@db:5432/commucat"
redis_url = "redis://cache:6379/0"

[security.rotation]
noise_max_versions = 5

[security.rate_limit]
http_burst = 120

[services.directory]
grpc_bind = "[::]:17102"

[telemetry]
log_level = "debug"
otlp_endpoint = "http://otel-collector:4318"
`);
    const config = loadConfig({ path, env: {} });
    expect(config.server.bind).toBe('0.0.0.0:9443');
    expect(config.server.domain).toBe('chat.example.net');
    expect(config.server.autoApproveDevices).toBe(true);
    expect(config.server.maxAutoDevicesPerUser).toBe(0);
    expect(config.server.keepalive).toBe(45);
    expect(config.server.transportEncryption).toBe('required');
    expect(config.server.tlsCert).toBe('/etc/commucat/tls.crt');
    expect(config.storage.postgresDsn).toBe('postgres://commucat:pw@db:5432/commucat');
    expect(config.storage.redisUrl).toBe('redis://cache:6379/0');
    expect(config.security.rotation.noiseMaxVersions).toBe(5);
    expect(config.security.rateLimit.httpBurst).toBe(120);
    expect(config.services.directory.grpcBind).toBe('[::]:17102');
    expect(config.services.directory.adminBind).toBe('127.0.0.1:9102');
    expect(config.telemetry).toEqual({ logLevel: 'debug', otlpEndpoint: 'http://otel-collector:4318' });
    expect(config.configPath).toBe(path);
  });

  it('keeps a # inside a quoted string and drops a trailing comment (weakness §11.23)', () => {
    const path = scratch.write(`
[server]
domain = "example.org" # the public domain
[crypto]
prologue = "commucat#v1" # comment after a value with a hash
[admin]
token = 'abc#def#ghi'
`);
    const config = loadConfig({ path, env: {} });
    expect(config.crypto.prologue).toBe('commucat#v1');
    expect(config.admin.token).toBe('abc#def#ghi');
    expect(config.server.domain).toBe('example.org');
  });

  it('accepts the reference style of quoted numbers and booleans', () => {
    const path = scratch.write('[server]\ndomain = "example.org"\nkeepalive = "90"\nauto_approve_devices = "true"\n');
    const config = loadConfig({ path, env: {} });
    expect(config.server.keepalive).toBe(90);
    expect(config.server.autoApproveDevices).toBe(true);
  });

  it('reports unknown keys and sections as warnings, not errors', () => {
    const path = scratch.write('[server]\ndomain = "example.org"\nkeepaliev = 10\n[ice.turn.main]\nurls = "turn:x"\n');
    const config = loadConfig({ path, env: {} });
    expect(config.warnings).toEqual([
      `unknown config key server.keepaliev in ${path} (ignored)`,
      `unknown config key ice in ${path} (ignored)`,
    ]);
    expect(config.server.keepalive).toBe(60);
  });

  it('rejects a scalar where a section belongs', () => {
    const error = loadError(() => loadConfig({ path: scratch.write('server = 5\n'), env: { ...MINIMAL_ENV } }));
    expect(error.code).toBe('CONFIG_INVALID_VALUE');
    expect(error.message).toBe('invalid config server: expected a table');
  });

  it('reports a syntax error by position without echoing the file content', () => {
    const path = scratch.write('[admin]\ntoken = "hunter2-very-secret\n');
    const error = loadError(() => loadConfig({ path, env: { ...MINIMAL_ENV } }));
    expect(error.code).toBe('CONFIG_FILE_SYNTAX');
    expect(error.message).toMatch(new RegExp(`^cannot parse config file ${path}: line 2, column \\d+: `));
    expect(error.message).not.toContain('hunter2');
  });

  it('fails when an explicitly named file does not exist', () => {
    const error = loadError(() => loadConfig({ path: '/nonexistent/commucat.toml', env: { ...MINIMAL_ENV } }));
    expect(error.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(error.message).toBe('cannot read config file /nonexistent/commucat.toml: ENOENT');
  });

  it('takes the path from COMMUCAT_CONFIG', () => {
    const path = scratch.write('[server]\ndomain = "from-env-path.example"\n');
    expect(loadConfig({ env: { COMMUCAT_CONFIG: path } }).server.domain).toBe('from-env-path.example');
    expect(() => loadConfig({ env: { COMMUCAT_CONFIG: `${path}.missing` } })).toThrow(ConfigError);
  });

  it('runs from the environment alone when ./commucat.toml is absent', () => {
    const previous = process.cwd();
    process.chdir(dirname(scratch.write('')));
    try {
      const config = loadConfig({ env: { ...MINIMAL_ENV } });
      expect(config.configPath).toBeUndefined();
      expect(config.server.domain).toBe('example.org');
    } finally {
      process.chdir(previous);
    }
  });
});

describe('environment overrides', () => {
  const path = scratch.write('[server]\ndomain = "file.example"\nkeepalive = 10\nauto_approve_devices = true\n');

  it('wins over the file when set', () => {
    const config = loadConfig({
      path,
      env: { COMMUCAT_KEEPALIVE: '20', COMMUCAT_AUTO_APPROVE_DEVICES: 'false', COMMUCAT_DIRECTORY_GRPC_BIND: '0.0.0.0:1' },
    });
    expect(config.server.keepalive).toBe(20);
    expect(config.server.autoApproveDevices).toBe(false);
    expect(config.server.domain).toBe('file.example');
    expect(config.services.directory.grpcBind).toBe('0.0.0.0:1');
  });

  it('is ignored when set but empty', () => {
    const config = loadConfig({ path, env: { COMMUCAT_KEEPALIVE: '', COMMUCAT_DOMAIN: '' } });
    expect(config.server.keepalive).toBe(10);
    expect(config.server.domain).toBe('file.example');
  });

  it('uses OTEL_EXPORTER_OTLP_ENDPOINT only when COMMUCAT_OTLP_ENDPOINT is unset', () => {
    const otel = { ...MINIMAL_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' };
    expect(loadConfig({ path, env: otel }).telemetry.otlpEndpoint).toBe('http://otel:4318');
    const both = { ...otel, COMMUCAT_OTLP_ENDPOINT: 'https://ours:4318' };
    expect(loadConfig({ path, env: both }).telemetry.otlpEndpoint).toBe('https://ours:4318');
  });

  it('names the fallback variable when its value is the bad one', () => {
    const error = loadError(() => loadConfig({ path, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' } }));
    expect(error.message).toBe(
      'invalid config telemetry.otlp_endpoint (OTEL_EXPORTER_OTLP_ENDPOINT): expected a http:// or https:// URL, got "ftp://x"',
    );
  });
});

describe('validation messages', () => {
  it('names key and variable, as in the design example', () => {
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_KEEPALIVE: 'abc' } }));
    expect(error.message).toBe('invalid config server.keepalive (COMMUCAT_KEEPALIVE): expected a positive integer, got "abc"');
    expect(error.code).toBe('CONFIG_INVALID_VALUE');
    expect(error.issues).toEqual([
      expect.objectContaining({ key: 'server.keepalive', env: 'COMMUCAT_KEEPALIVE', source: 'env' }),
    ]);
  });

  const everyKey = Object.entries(CONFIG_KEYS) as [ConfigKey, (typeof CONFIG_KEYS)[ConfigKey]][];

  it.each(everyKey)('rejects an array in the file for %s and names it', (key) => {
    const [section, ...rest] = key.split('.');
    const table = rest.slice(0, -1);
    const leaf = rest[rest.length - 1];
    const header = [section, ...table].join('.');
    const path = scratch.write(`[${header}]\n${leaf} = [1, 2]\n`);
    const env = key === 'server.domain' ? {} : { ...MINIMAL_ENV };
    const error = loadError(() => loadConfig({ path, env }));
    expect(error.message).toMatch(new RegExp(`^invalid config ${key.replace(/\./g, '\\.')} \\(${CONFIG_KEYS[key].env}\\): expected `));
    expect(error.issues[0]).toMatchObject({ key, source: 'file' });
  });

  const nonStringKeys = everyKey.filter(([, def]) => !['a file path', 'a string', 'a non-empty string', 'a PostgreSQL connection string'].includes(def.type.expected));

  it.each(nonStringKeys)('rejects a malformed environment value for %s and names it', (key, def) => {
    const env = { ...MINIMAL_ENV, [def.env]: 'not valid!' };
    const error = loadError(() => loadConfig({ path: scratch.write(''), env }));
    expect(error.message.startsWith(`invalid config ${key} (${def.env}): expected ${def.type.expected}`)).toBe(true);
  });

  it('reports every problem at once', () => {
    const env = { COMMUCAT_KEEPALIVE: '0', COMMUCAT_BIND: 'localhost', COMMUCAT_LOG_LEVEL: 'loud' };
    const error = loadError(() => loadConfig({ path: scratch.write(''), env }));
    expect(error.message.split('\n')).toEqual([
      'invalid config server.bind (COMMUCAT_BIND): expected host:port (e.g. 127.0.0.1:8443 or [::1]:8443), got "localhost"',
      'invalid config server.keepalive (COMMUCAT_KEEPALIVE): expected a positive integer, got "0"',
      'invalid config telemetry.log_level (COMMUCAT_LOG_LEVEL): expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'missing required config server.domain (COMMUCAT_DOMAIN)',
    ]);
  });

  it('applies ranges: 0 is allowed where it means unlimited, rejected where it must be positive', () => {
    const ok = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_MAX_AUTO_DEVICES: '0', COMMUCAT_RATE_HTTP_PENALTY_MS: '0' } });
    expect(ok.server.maxAutoDevicesPerUser).toBe(0);
    expect(ok.security.rateLimit.httpPenaltyMs).toBe(0);
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_ROTATE_NOISE_MAX_VERSIONS: '0' } }));
    expect(error.message).toBe(
      'invalid config security.rotation.noise_max_versions (COMMUCAT_ROTATE_NOISE_MAX_VERSIONS): expected a positive integer, got "0"',
    );
  });

  it('masks credentials embedded in a URL it echoes', () => {
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_REDIS_URL: 'http://user:s3cr3t@cache:6379' } }));
    expect(error.message).toContain('got "http://user:***@cache:6379"');
    expect(error.message).not.toContain('s3cr3t');
  });
});

describe('device key rotation keys', () => {
  it('read the reference env names and the [rotation.device] table', () => {
    const env = {
      ...MINIMAL_ENV, COMMUCAT_ROTATION_DEVICE_ENABLED: 'false', COMMUCAT_ROTATION_DEVICE_MIN_INTERVAL: '0',
      COMMUCAT_ROTATION_DEVICE_PROOF_TTL: '30', COMMUCAT_ROTATION_DEVICE_NOTIFY_CHANNEL: '7',
    };
    expect(loadConfig({ path: scratch.write(''), env }).rotation.device).toEqual({ enabled: false, minInterval: 0, proofTtl: 30, notifyChannel: 7 });
    const path = scratch.write('[rotation.device]\nenabled = false\nmin_interval = 60\nproof_ttl = 120\nnotify_channel = 3\n');
    expect(loadConfig({ path, env: { ...MINIMAL_ENV } }).rotation.device).toEqual({ enabled: false, minInterval: 60, proofTtl: 120, notifyChannel: 3 });
  });

  it('refuse a proof_ttl of 0 and a notify_channel beyond u32', () => {
    expect(loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_ROTATION_DEVICE_PROOF_TTL: '0' } })).message).toBe(
      'invalid config rotation.device.proof_ttl (COMMUCAT_ROTATION_DEVICE_PROOF_TTL): expected a positive integer, got "0"',
    );
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_ROTATION_DEVICE_NOTIFY_CHANNEL: '4294967296' } }));
    expect(error.issues[0]).toMatchObject({ key: 'rotation.device.notify_channel', source: 'env' });
  });
});

describe('secret rotation and ledger keys', () => {
  it('read the rotation overrides, the admin token file and the ledger from the environment', () => {
    const env = {
      ...MINIMAL_ENV, COMMUCAT_ROTATE_NOISE_ENABLED: 'true', COMMUCAT_ROTATE_NOISE_INTERVAL_SECONDS: '5', COMMUCAT_ROTATE_NOISE_GRACE_SECONDS: '0',
      COMMUCAT_ROTATE_ADMIN_INTERVAL_SECONDS: '7', COMMUCAT_ROTATE_ADMIN_GRACE_SECONDS: '2', COMMUCAT_ROTATE_TICK_SECONDS: '1',
      COMMUCAT_ADMIN_TOKEN_FILE: '/run/commucat/admin-token', COMMUCAT_LEDGER: 'file', COMMUCAT_LEDGER_TARGET: '/var/log/ledger.jsonl',
    };
    const config = loadConfig({ path: scratch.write(''), env });
    expect(config.security.rotation).toMatchObject({
      noiseEnabled: true, noiseIntervalSeconds: 5, noiseGraceSeconds: 0, adminIntervalSeconds: 7, adminGraceSeconds: 2, tickSeconds: 1,
      adminTokenFile: '/run/commucat/admin-token',
    });
    expect(config.ledger).toEqual({ mode: 'file', target: '/var/log/ledger.jsonl' });
  });

  it('requires ledger.target for the file ledger and refuses unknown modes', () => {
    expect(loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_LEDGER: 'file' } })).issues[0])
      .toMatchObject({ key: 'ledger.target', code: 'CONFIG_MISSING_REQUIRED' });
    expect(loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_LEDGER: 'chain' } })).issues[0])
      .toMatchObject({ key: 'ledger.mode', code: 'CONFIG_INVALID_VALUE' });
  });
});

describe('booleans', () => {
  it.each(['true', 'false'])('accepts %s', (word) => {
    const config = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_AUTO_APPROVE_DEVICES: word } });
    expect(config.server.autoApproveDevices).toBe(word === 'true');
  });

  it.each(['TRUE', 'True', 'yes', '1', 'on', 'false '])('rejects %j', (word) => {
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_AUTO_APPROVE_DEVICES: word } }));
    expect(error.message).toBe(`invalid config server.auto_approve_devices (COMMUCAT_AUTO_APPROVE_DEVICES): expected true or false, got ${JSON.stringify(word)}`);
  });

  it('rejects a TOML integer where a boolean belongs', () => {
    const path = scratch.write('[server]\ndomain = "example.org"\nauto_approve_devices = 1\n');
    expect(loadError(() => loadConfig({ path, env: {} })).message).toBe(
      'invalid config server.auto_approve_devices (COMMUCAT_AUTO_APPROVE_DEVICES): expected true or false, got 1',
    );
  });
});

describe('secrets', () => {
  const secretCases: [string, string, string][] = [
    ['COMMUCAT_NOISE_PRIVATE', 'deadbeef-not-hex-TOPSECRET', 'invalid config crypto.noise_private (COMMUCAT_NOISE_PRIVATE): expected 64 hex digits'],
    ['COMMUCAT_FEDERATION_SEED', 'abcdef0123TOPSECRET', 'invalid config crypto.federation_seed (COMMUCAT_FEDERATION_SEED): expected an even number of hex digits, at least 64'],
    ['COMMUCAT_SECRETS_KEK', '00'.repeat(31) + 'TOPSECRET', 'invalid config crypto.secrets_kek (COMMUCAT_SECRETS_KEK): expected 64 hex digits'],
  ];

  it.each(secretCases)('%s: the message never contains the value', (variable, value, message) => {
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, [variable]: value } }));
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('TOPSECRET');
    expect(JSON.stringify(error.issues)).not.toContain('TOPSECRET');
  });

  it('does not echo a DSN or admin token given with the wrong type in the file', () => {
    const path = scratch.write('[server]\ndomain = "example.org"\n[storage]\npostgres_dsn = 12345678\n');
    const error = loadError(() => loadConfig({ path, env: {} }));
    expect(error.message).toBe('invalid config storage.postgres_dsn (COMMUCAT_PG_DSN): expected a PostgreSQL connection string');
  });

  it('accepts a federation seed longer than 32 bytes and normalises hex to lower case', () => {
    const seed = 'AB'.repeat(48);
    const config = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_FEDERATION_SEED: seed } });
    expect(config.crypto.federationSeed).toBe(seed.toLowerCase());
  });
});

describe('key pairs', () => {
  function x25519Hex(): { privateHex: string; publicHex: string } {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const privateJwk = privateKey.export({ format: 'jwk' });
    const publicJwk = publicKey.export({ format: 'jwk' });
    return {
      privateHex: Buffer.from(privateJwk.d!, 'base64url').toString('hex'),
      publicHex: Buffer.from(publicJwk.x!, 'base64url').toString('hex'),
    };
  }

  it('accepts a matching Noise key pair', () => {
    const { privateHex, publicHex } = x25519Hex();
    const env = { ...MINIMAL_ENV, COMMUCAT_NOISE_PRIVATE: privateHex, COMMUCAT_NOISE_PUBLIC: publicHex.toUpperCase() };
    const config = loadConfig({ path: scratch.write(''), env });
    expect(config.crypto.noisePrivate).toBe(privateHex);
    expect(config.crypto.noisePublic).toBe(publicHex);
  });

  it('rejects a public key that does not belong to the private key, without echoing the private key', () => {
    const first = x25519Hex();
    const second = x25519Hex();
    const env = { ...MINIMAL_ENV, COMMUCAT_NOISE_PRIVATE: first.privateHex, COMMUCAT_NOISE_PUBLIC: second.publicHex };
    const error = loadError(() => loadConfig({ path: scratch.write(''), env }));
    expect(error.code).toBe('CONFIG_INCONSISTENT');
    expect(error.message).toBe(
      'invalid config crypto.noise_public (COMMUCAT_NOISE_PUBLIC): is not the X25519 public key of crypto.noise_private (COMMUCAT_NOISE_PRIVATE)',
    );
    expect(error.message).not.toContain(first.privateHex);
  });

  it('requires both halves of the Noise key and of the TLS pair', () => {
    const env = { ...MINIMAL_ENV, COMMUCAT_NOISE_PRIVATE: 'aa'.repeat(32), COMMUCAT_TLS_KEY: '/tls.key' };
    const error = loadError(() => loadConfig({ path: scratch.write(''), env }));
    expect(error.message.split('\n')).toEqual([
      'invalid config server.tls_cert (COMMUCAT_TLS_CERT): must be set together with server.tls_key (COMMUCAT_TLS_KEY)',
      'invalid config crypto.noise_public (COMMUCAT_NOISE_PUBLIC): must be set together with crypto.noise_private (COMMUCAT_NOISE_PRIVATE)',
    ]);
  });

  it('takes NATS credentials as a user with its password or a token, never both, never echoing them', () => {
    const pair = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_NATS_USER: 'commucat', COMMUCAT_NATS_PASSWORD: 'pw-secret' } });
    expect(pair.fleet).toMatchObject({ natsUser: 'commucat', natsPassword: 'pw-secret' });
    const token = loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_NATS_TOKEN: 'tok-secret' } });
    expect(token.fleet.natsToken).toBe('tok-secret');

    const lonely = loadError(() => loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_NATS_USER: 'commucat' } }));
    expect(lonely.message).toBe('invalid config fleet.nats_password (COMMUCAT_NATS_PASSWORD): must be set together with fleet.nats_user (COMMUCAT_NATS_USER)');
    const both = loadError(() =>
      loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_NATS_USER: 'u', COMMUCAT_NATS_PASSWORD: 'pw-secret', COMMUCAT_NATS_TOKEN: 'tok-secret' } }),
    );
    expect(both.code).toBe('CONFIG_INCONSISTENT');
    expect(both.message).toContain('give a NATS token or fleet.nats_user (COMMUCAT_NATS_USER) with a password, not both');
    for (const error of [lonely, both]) expect(error.message).not.toMatch(/pw-secret|tok-secret/);
  });
});

describe('required keys', () => {
  it('always requires server.domain', () => {
    const error = loadError(() => loadConfig({ path: scratch.write(''), env: {} }));
    expect(error.code).toBe('CONFIG_MISSING_REQUIRED');
    expect(error.message).toBe('missing required config server.domain (COMMUCAT_DOMAIN)');
  });

  it('requires what the service asks for', () => {
    const error = loadError(() =>
      loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV }, require: ['server.tls_cert', 'storage.postgres_dsn'] }),
    );
    expect(error.message.split('\n')).toEqual([
      'missing required config server.tls_cert (COMMUCAT_TLS_CERT)',
      'missing required config storage.postgres_dsn (COMMUCAT_PG_DSN)',
    ]);
    const config = loadConfig({
      path: scratch.write(''),
      env: { ...MINIMAL_ENV, COMMUCAT_TLS_CERT: '/c', COMMUCAT_TLS_KEY: '/k', COMMUCAT_PG_DSN: 'postgres://x/y' },
      require: ['server.tls_cert', 'storage.postgres_dsn'],
    });
    expect(config.server.tlsCert).toBe('/c');
  });

  it('reports an invalid required value as invalid, not as missing', () => {
    const error = loadError(() =>
      loadConfig({ path: scratch.write(''), env: { ...MINIMAL_ENV, COMMUCAT_REDIS_URL: 'cache:6379' }, require: ['storage.redis_url'] }),
    );
    expect(error.message).toBe('invalid config storage.redis_url (COMMUCAT_REDIS_URL): expected a redis:// or rediss:// or unix:// URL, got "cache:6379"');
  });
});

describe('derived defaults', () => {
  it('enables admin token rotation exactly when a token is configured, unless set explicitly', () => {
    const path = scratch.write('');
    expect(loadConfig({ path, env: { ...MINIMAL_ENV, COMMUCAT_ADMIN_TOKEN: 't' } }).security.rotation.adminEnabled).toBe(true);
    expect(loadConfig({ path, env: { ...MINIMAL_ENV } }).security.rotation.adminEnabled).toBe(false);
    const explicit = { ...MINIMAL_ENV, COMMUCAT_ADMIN_TOKEN: 't', COMMUCAT_ROTATE_ADMIN_ENABLED: 'false' };
    expect(loadConfig({ path, env: explicit }).security.rotation.adminEnabled).toBe(false);
  });

  it('accepts several NATS seed servers and rejects a gateway id that would break a subject', () => {
    const path = scratch.write('');
    const config = loadConfig({ path, env: { ...MINIMAL_ENV, COMMUCAT_NATS_URL: 'nats://a:4222, tls://b:4222', COMMUCAT_GATEWAY_ID: 'gw-1' } });
    expect(config.fleet.natsUrl).toBe('nats://a:4222, tls://b:4222');
    expect(config.fleet.gatewayId).toBe('gw-1');
    const error = loadError(() => loadConfig({ path, env: { ...MINIMAL_ENV, COMMUCAT_GATEWAY_ID: 'gw.1' } }));
    expect(error.message).toBe('invalid config fleet.gateway_id (COMMUCAT_GATEWAY_ID): expected 1-128 characters from A-Z a-z 0-9 _ -, got "gw.1"');
  });

  it('gives the media replica a host-pid id that fits a subject token, and an address for diagnose', () => {
    const path = scratch.write('');
    const defaults = loadConfig({ path, env: { ...MINIMAL_ENV } });
    expect(defaults.fleet.mediaReplicaId).toMatch(new RegExp(`^[A-Za-z0-9_-]+-${process.pid}$`));
    expect(defaults.fleet.mediaAddr).toBe('127.0.0.1:7106');
    const set = loadConfig({ path, env: { ...MINIMAL_ENV, COMMUCAT_MEDIA_REPLICA_ID: 'media-7', COMMUCAT_MEDIA_ADDR: '10.0.0.5:7106' } });
    expect([set.fleet.mediaReplicaId, set.fleet.mediaAddr]).toEqual(['media-7', '10.0.0.5:7106']);
    const error = loadError(() => loadConfig({ path, env: { ...MINIMAL_ENV, COMMUCAT_MEDIA_REPLICA_ID: 'media.7' } }));
    expect(error.message).toBe('invalid config fleet.media_replica_id (COMMUCAT_MEDIA_REPLICA_ID): expected 1-128 characters from A-Z a-z 0-9 _ -, got "media.7"');
  });
});
