import { planDelivery as planWithProfiles, receiverProfile } from '../src/media-plan';

const video = (codec: string, width: number, height: number, preferred: string[] = []) =>
  JSON.stringify({ audio: { codec: 'opus', bitrate: 16_000, sample_rate: 48_000, channels: 1 }, video: { codec, max_bitrate: 500_000, max_resolution: { width, height }, frame_rate: 15, preferred_codecs: preferred } });

/** The receivers as the router caches them: profiles parsed once from their stored JSON. */
const planDelivery = (sender: Parameters<typeof planWithProfiles>[0], receivers: Array<{ deviceId: string; mediaJson: string | undefined }>) =>
  planWithProfiles(sender, receivers.map((r) => ({ deviceId: r.deviceId, profile: receiverProfile(r.mediaJson) })));

describe('planDelivery (per-subscriber transcoding)', () => {
  const sender = { kind: 'video' as const, source: 'encoded' as const, codec: 'vp9' as const, resolution: { width: 640, height: 360 } };

  it('forwards to receivers that take the stream, and groups the others by the stream they need', () => {
    const plan = planDelivery(sender, [
      { deviceId: 'takes-vp9', mediaJson: video('vp9', 640, 360) },
      { deviceId: 'vp8-only-a', mediaJson: video('vp8', 640, 360) },
      { deviceId: 'vp8-only-b', mediaJson: video('vp8', 1280, 720) },
      { deviceId: 'small', mediaJson: video('vp9', 320, 180, ['vp8']) },
      { deviceId: 'h264', mediaJson: video('h264_main', 640, 360) },
    ]);
    expect(plan.forward).toEqual(['takes-vp9']);
    expect(plan.transcode).toEqual([
      { tag: 'vp8-640x360', resolution: { width: 640, height: 360 }, recipients: ['vp8-only-a', 'vp8-only-b'] },
      { tag: 'vp8-320x180', resolution: { width: 320, height: 180 }, recipients: ['small'] },
    ]);
    expect(plan.undeliverable.map((u) => u.deviceId)).toEqual(['h264']);
  });

  it('gives no video to a receiver in a call without any media profile (the default has no video)', () => {
    expect(planDelivery(sender, [{ deviceId: 'x', mediaJson: undefined }]).undeliverable.map((u) => u.deviceId)).toEqual(['x']);
  });
});
