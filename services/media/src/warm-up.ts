import { i420FrameBytes, Vp8StreamEncoder } from './vp8-encoder.js';

const WARM_UP_SIZE = 64;
const WARM_UP_TIMEOUT_MS = 15_000;

/**
 * Encodes one tiny frame before the replica reports ready: fluent-ffmpeg probes ffmpeg's
 * capabilities on first use and the first ffmpeg start loads its libraries, which made the first
 * video stream of a fresh replica wait ~3 s (and drop a second of frames) on this VM.
 */
export async function warmUpVideoEncoder(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the ffmpeg warm-up encode did not finish in time')), WARM_UP_TIMEOUT_MS);
    const encoder = new Vp8StreamEncoder({
      width: WARM_UP_SIZE, height: WARM_UP_SIZE, frameRate: 15, bitrate: 100_000, warmStandby: false,
      onFrame: () => {
        clearTimeout(timer);
        encoder.close().then(resolve, reject);
      },
      onError: (error) => {
        clearTimeout(timer);
        void encoder.close();
        reject(error);
      },
    });
    encoder.push(Buffer.alloc(i420FrameBytes(WARM_UP_SIZE, WARM_UP_SIZE), 128));
  });
}
