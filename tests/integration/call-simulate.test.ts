import { type Bus, connectBus, Subjects } from '@commucat/bus';
import { cli } from '../support/cli-run';
import { TestFleet } from '../support/fleet';

// `commucat-cli call-simulate` as shipped (the built dist/main.js) against a fleet's real media replica.
jest.setTimeout(120_000);


interface KindReport {
  streams: number;
  frames_sent: number;
  outputs: number;
  dropped: number;
  refused: number;
  keyframes: number;
  latency_ms: { p50: number; p99: number; max: number } | null;
  realtime_factor: number;
  kbps_per_stream: number;
}

interface Report {
  audio: KindReport;
  video: KindReport;
  replicas: { replica_id: string; calls: number; cpu_percent: number; window_ms: number }[];
  refused_codes: Record<string, number>;
}

let fleet: TestFleet;
let watcher: Bus;
const activeStreams: number[] = [];

beforeAll(async () => {
  fleet = await TestFleet.start({ federation: false });
  const env = fleet.env();
  watcher = await connectBus({ servers: env.COMMUCAT_NATS_URL!, namespace: fleet.natsNamespace, name: 'call-simulate-it' });
  watcher.subscribe(Subjects.mediaHeartbeat, {}, (hb) => {
    if (hb.replicaId === fleet.mediaReplicaId()) activeStreams.push(hb.activeStreams);
  });
});
afterAll(async () => {
  await watcher?.close();
  await fleet?.stop();
});

describe('commucat-cli call-simulate', () => {
  it('encodes synthetic audio and video on the media replica, reports the figures and ends its calls', async () => {
    const run = await cli(['call-simulate', '--audio', '2', '--video', '1', '--seconds', '3', '--width', '320', '--height', '180', '--fps', '15', '--json'], fleet.env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;

    // 3 s of 20 ms frames for 2 streams; 3 s at 15 fps for 1.
    expect(report.audio).toMatchObject({ streams: 2, frames_sent: 300, refused: 0 });
    expect(report.video).toMatchObject({ streams: 1, frames_sent: 45, refused: 0 });
    for (const kind of [report.audio, report.video]) {
      expect(kind.outputs).toBeGreaterThan(0);
      expect(kind.outputs + kind.dropped).toBe(kind.frames_sent);
      expect(kind.latency_ms!.p50).toBeGreaterThan(0);
      expect(kind.latency_ms!.p99).toBeGreaterThanOrEqual(kind.latency_ms!.p50);
      expect(kind.realtime_factor).toBeGreaterThan(0);
      expect(kind.kbps_per_stream).toBeGreaterThan(0);
    }
    // A fresh VP8 encoder starts with a keyframe.
    expect(report.video.keyframes).toBeGreaterThanOrEqual(1);
    expect(report.refused_codes).toEqual({});
    expect(report.replicas).toHaveLength(1);
    expect(report.replicas[0]).toMatchObject({ replica_id: fleet.mediaReplicaId(), calls: 3 });
    expect(report.replicas[0]!.window_ms).toBeGreaterThan(0);
    expect(report.replicas[0]!.cpu_percent).toBeGreaterThan(0);

    // The replica ran the three streams, and MediaCallEnded closed them after the run.
    expect(Math.max(...activeStreams)).toBeGreaterThanOrEqual(3);
    const heardAfterRun = activeStreams.length;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !(activeStreams.length > heardAfterRun && activeStreams[activeStreams.length - 1] === 0)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(activeStreams[activeStreams.length - 1]).toBe(0);
  });

  it('prints a table in text mode', async () => {
    const run = await cli(['call-simulate', '--audio', '1', '--seconds', '1'], fleet.env());
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`media replicas: ${fleet.mediaReplicaId()}`);
    expect(run.stdout).toMatch(/^kind +streams +sent +encoded +dropped +refused +p50 +p99 +max +realtime +kbps\/stream\n/);
    expect(run.stdout).toMatch(/\naudio +1 +50 +\d+ /);
    expect(run.stdout).toContain(fleet.mediaReplicaId());
  });

  it('exits 3 and points at `make up` when no media replica answers on its namespace', async () => {
    const run = await cli(['call-simulate', '--audio', '1', '--seconds', '1', '--json'], { ...fleet.env(), COMMUCAT_NATS_NAMESPACE: `${fleet.natsNamespace}_nomedia` });
    expect(run.code).toBe(3);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string; hint: string } };
    expect(error.code).toBe('UNREACHABLE');
    expect(error.message).toMatch(/no media replica heartbeat on commucat\.media\.heartbeat within 5000 ms/);
    expect(error.hint).toMatch(/make up/);
  });
});
