import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { FrameType } from '@commucat/ccp1';
import { connectClient, fetchServerInfo } from '@commucat/client';
import { Peer, freshChannel } from '../support/conversation';
import { newIdentity } from '../support/fleet-client';
import { ContainerFleet, FLEET_SERVICES, IMAGE_UID, TLS_MOUNT, imageName, missingImages, type ContainerService } from './support/container-fleet';
import { podman } from './support/podman';

// Starting eight containers one after another (each waits for the previous one's readiness)
// takes a while on a shared two-core machine.
jest.setTimeout(300_000);

let fleet: ContainerFleet | undefined;

beforeAll(async () => {
  if ((await podman(['--version']).catch(() => undefined))?.code !== 0) throw new Error('podman is not installed: the images check runs the fleet with podman (apt-get install podman runc)');
  const missing = await missingImages([...FLEET_SERVICES, 'cli', 'e2e']);
  if (missing.length > 0) throw new Error(`images missing: ${missing.join(', ')}; build them with \`make images\` (scripts/images.sh)`);
  fleet = await ContainerFleet.start();
});

afterAll(async () => {
  await fleet?.stop();
});

function running(): ContainerFleet {
  if (!fleet) throw new Error('the container fleet did not start');
  return fleet;
}

/** A device connected to the containerised gateway over the h2 TS client, its certificate pinned. */
async function connectPeer(prefix: string): Promise<Peer> {
  const f = running();
  const info = await fetchServerInfo(f.gatewayUrl, { ca: f.tlsCert });
  const identity = newIdentity(prefix);
  const conn = await connectClient({
    url: f.gatewayUrl,
    domain: f.domain,
    serverStatic: Buffer.from(info.noise_public as string, 'hex'),
    identity,
    ca: f.tlsCert,
  });
  return new Peer(conn, identity);
}

describe('the fleet from its container images (podman, read-only, uid 10001)', () => {
  test("the cli image's migrate applied every file of migrations/", async () => {
    const files = readdirSync(path.resolve(__dirname, '../../migrations')).filter((f) => f.endsWith('.sql'));
    const applied = await running().appliedMigrations();
    expect(applied).toHaveLength(files.length);
    expect(applied.map((row) => Number(row.split(' ')[0]))).toEqual(files.map((f) => Number.parseInt(f, 10)).sort((a, b) => a - b));
  });

  test.each(FLEET_SERVICES.map((s) => [s]))('%s runs as uid 10001 with no capabilities on a read-only root filesystem', async (service: ContainerService) => {
    const f = running();
    expect(await f.inspect(service, '{{.State.Running}} {{.HostConfig.ReadonlyRootfs}}')).toBe('true true');
    // What the service process itself sees (PID 1 of the container is the service).
    const probe = await f.exec(service, [
      'node', '-e',
      `const fs = require('fs');
       const status = fs.readFileSync('/proc/1/status', 'utf8');
       const field = (k) => status.split('\\n').find((l) => l.startsWith(k + ':')).split(/\\s+/).slice(1).join(' ');
       let write = 'written';
       try { fs.writeFileSync('/app/probe', 'x'); } catch (e) { write = e.code; }
       let tmp = 'written';
       try { fs.writeFileSync('/tmp/probe', 'x'); } catch (e) { tmp = e.code; }
       process.stdout.write(JSON.stringify({ uid: field('Uid'), gid: field('Gid'), capEff: field('CapEff'), cmd: fs.readFileSync('/proc/1/cmdline', 'utf8').split('\\0').join(' ').trim(), write, tmp }));`,
    ]);
    expect(probe.stderr).toBe('');
    const seen = JSON.parse(probe.stdout) as Record<string, string>;
    expect(seen).toEqual({
      uid: `${IMAGE_UID} ${IMAGE_UID} ${IMAGE_UID} ${IMAGE_UID}`,
      gid: `${IMAGE_UID} ${IMAGE_UID} ${IMAGE_UID} ${IMAGE_UID}`,
      capEff: '0000000000000000',
      cmd: `node /usr/local/bin/commucat-${service}`,
      // The image is read-only even for a file the service user could own; /tmp is a tmpfs.
      write: 'EROFS',
      tmp: 'written',
    });
  });

  test.each(FLEET_SERVICES.map((s) => [s]))("%s image's HEALTHCHECK finds the service healthy", async (service: ContainerService) => {
    const f = running();
    const result = await f.healthcheck(service);
    expect({ code: result.code, out: result.stdout.trim() }).toEqual({ code: 0, out: '' });
    expect(await f.inspect(service, '{{.State.Health.Status}}')).toBe('healthy');
  });

  test('the media image carries ffmpeg with libvpx and the native libopus binding', async () => {
    const f = running();
    const ffmpeg = await f.exec('media', ['ffmpeg', '-hide_banner', '-encoders']);
    expect(ffmpeg.code).toBe(0);
    expect(ffmpeg.stdout).toMatch(/libvpx/);
    const opus = await f.exec('media', ['node', '-e', "const { OpusEncoder } = require('@discordjs/opus'); process.stdout.write(String(new OpusEncoder(48000, 1).encode(Buffer.alloc(1920)).length > 0))"]);
    expect({ code: opus.code, out: opus.stdout, err: opus.stderr }).toEqual({ code: 0, out: 'true', err: '' });
  });

  test('two devices handshake with the containerised gateway and exchange a message through the router', async () => {
    const alice = await connectPeer('img-alice');
    const bob = await connectPeer('img-bob');
    try {
      const channel = freshChannel();
      await alice.join(channel);
      await bob.join(channel);
      await alice.say(channel, 'hello from a container');
      await bob.expectText(channel, 'hello from a container');
      bob.sendText(channel, 'hi back');
      const answer = await bob.reply();
      expect(answer.type).toBe(FrameType.Ack);
      await alice.expectText(channel, 'hi back');
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  test("the cli image's smoke check passes against the containerised gateway", async () => {
    const f = running();
    const result = await f.cli(['smoke', '--gateway', `https://127.0.0.1:${f.gatewayPort}`, '--ca', `${TLS_MOUNT}/gateway.crt`]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(result.stdout).toMatch(/smoke check passed/);
  });

  test("the e2e image's cluster suite passes against the containerised gateway (what skaffold verify runs)", async () => {
    const f = running();
    const result = await f.runToCompletion('e2e', ['--runInBand'], {
      COMMUCAT_GATEWAY_URL: `https://127.0.0.1:${f.gatewayPort}`,
      COMMUCAT_GATEWAY_CA: `${TLS_MOUNT}/gateway.crt`,
    });
    expect({ code: result.code, output: result.code === 0 ? '' : `${result.stdout}${result.stderr}` }).toEqual({ code: 0, output: '' });
    expect(result.stderr).toMatch(/Tests:\s+\d+ passed, \d+ total/);
  });

  test('every image carries its OCI title label', async () => {
    for (const name of [...FLEET_SERVICES, 'cli', 'e2e'] as const) {
      const title = await podman(['image', 'inspect', '--format', '{{index .Labels "org.opencontainers.image.title"}}', imageName(name)]);
      expect(title.stdout.trim()).toBe(`commucat-${name}`);
    }
  });
});
