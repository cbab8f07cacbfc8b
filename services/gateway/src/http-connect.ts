import * as http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ndjsonLine, sseEvent } from '@commucat/ccp1';
import type { ConnectSink } from './connect-sink.js';
import type { ConnectMode } from './connect-mode.js';

export type StreamingMode = Exclude<ConnectMode, 'websocket'>;
type AnyRequest = IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = ServerResponse | http2.Http2ServerResponse;

const CONTENT_TYPE: Record<StreamingMode, string> = {
  binary: 'application/octet-stream',
  sse: 'text/event-stream',
  'long-poll': 'application/x-ndjson',
};

/** Comment and line the streaming text modes send when idle after the handshake (spec §2.7). */
const KEEPALIVE: Partial<Record<StreamingMode, string>> = { sse: ':keepalive\n\n', 'long-poll': '{"keepalive":true}\n' };

/**
 * Writes the response head of a /connect stream in the given mode (spec §2.3–§2.5) and returns the
 * sink that frames every outbound unit for that mode. Upstream is the raw request body in all three.
 */
export function openHttpConnectSink(req: AnyRequest, res: AnyResponse, mode: StreamingMode, keepaliveSeconds: number, isRequestEnded: () => boolean): ConnectSink {
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPE[mode],
    'cache-control': 'no-store',
    'x-commucat-connect-mode': mode,
  };
  // Connection headers are forbidden in HTTP/2 (Node throws); the reference sends this one on SSE.
  if (mode === 'sse' && req.httpVersionMajor === 1) headers.connection = 'keep-alive';
  (res as ServerResponse).writeHead(200, headers);
  // The real client waits for these headers only after sending Hello; flush them now anyway.
  (res as ServerResponse).flushHeaders?.();
  const write = (chunk: string | Buffer) => { (res as ServerResponse).write(chunk); };
  if (mode === 'sse') write(':ready\n\n');

  let lastWrite = Date.now();
  let keepalive: NodeJS.Timeout | undefined;
  return {
    writeUnit(unit, frame) {
      lastWrite = Date.now();
      if (mode === 'sse') write(sseEvent(frame.sequence, unit));
      else if (mode === 'long-poll') write(ndjsonLine(frame, unit));
      else write(unit);
    },
    established() {
      const line = KEEPALIVE[mode];
      if (!line) return; // binary mode gets no server keepalives
      const intervalMs = keepaliveSeconds * 1000;
      keepalive = setInterval(() => {
        if (Date.now() - lastWrite >= intervalMs) {
          lastWrite = Date.now();
          write(line);
        }
      }, Math.max(1000, Math.floor(intervalMs / 2)));
      keepalive.unref();
    },
    end() {
      if (keepalive) clearInterval(keepalive);
      res.end();
      // Stop reading a client that keeps sending after we ended: reset the stream (h2) or drop
      // the socket (HTTP/1.1) once our response is flushed.
      res.once('finish', () => {
        if (isRequestEnded()) return;
        if ('stream' in res && res.stream) res.stream.close(http2.constants.NGHTTP2_NO_ERROR);
        else req.socket?.destroy();
      });
    },
    pauseInput: () => req.pause(),
    resumeInput: () => req.resume(),
  };
}
