import * as http2 from 'node:http2';
import { FrameStreamDecoder, type Frame } from '@commucat/ccp1';
import { openConnectStream } from '@commucat/client';

export interface RawExchange {
  frames: Frame[];
  /** Bytes the server sent that did not form whole frames. */
  trailingBytes: number;
  status: number | undefined;
  /** How the stream ended: 'end' (END_STREAM), 'reset' or 'timeout'. */
  ending: 'end' | 'reset' | 'timeout';
}

/**
 * Opens a /connect stream, writes `bytes` (optionally ending the request), and collects every
 * frame the server sends until it ends the stream. For tests that speak raw bytes.
 */
export interface RawExchangeOptions {
  endRequest?: boolean;
  timeoutMs?: number;
  session?: http2.ClientHttp2Session;
  /** Called for each frame the server sends; `write` sends more bytes on the same stream. */
  onFrame?: (frame: Frame, write: (bytes: Uint8Array) => void) => void;
}

export function rawExchange(url: string, ca: Buffer, bytes: Uint8Array[], opts: RawExchangeOptions = {}): Promise<RawExchange> {
  return new Promise((resolve) => {
    const stream = openConnectStream(url, { ca, session: opts.session });
    const decoder = new FrameStreamDecoder();
    const frames: Frame[] = [];
    let status: number | undefined;
    let settled = false;
    const finish = (ending: RawExchange['ending']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ frames, trailingBytes: decoder.bufferedBytes, status, ending });
      // Finish our half politely; resetting thousands of streams would look like a rapid-reset
      // attack, and servers rightly drop such sessions.
      if (ending === 'timeout') stream.close(http2.constants.NGHTTP2_CANCEL);
      else if (!stream.writableEnded) stream.end();
    };
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? 10_000);
    stream.on('response', (headers) => { status = Number(headers[':status']); });
    stream.on('data', (chunk: Buffer) => {
      let received: Frame[] = [];
      try {
        received = decoder.push(chunk);
      } catch {
        // the server never sends undecodable bytes; the assertion on frames will show it
      }
      for (const frame of received) {
        frames.push(frame);
        opts.onFrame?.(frame, (more) => stream.write(more));
      }
    });
    stream.on('end', () => finish('end'));
    stream.on('error', () => finish('reset'));
    stream.on('close', () => finish(stream.rstCode === http2.constants.NGHTTP2_NO_ERROR ? 'end' : 'reset'));
    for (const b of bytes) stream.write(b);
    if (opts.endRequest) stream.end();
  });
}
