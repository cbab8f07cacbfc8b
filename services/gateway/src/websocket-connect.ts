import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { MAX_FRAME_LEN } from '@commucat/ccp1';
import type { ConnectSink } from './connect-sink.js';

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Why a WebSocket upgrade is refused, with the status the reference uses (spec §2.6). */
export function websocketUpgradeProblem(req: IncomingMessage): { status: number; detail: string } | undefined {
  if (req.method !== 'GET') return { status: 405, detail: 'WebSocket /connect needs GET' };
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  const connection = String(req.headers.connection ?? '').split(',').map((t) => t.trim().toLowerCase());
  if (upgrade !== 'websocket' || !connection.includes('upgrade')) return { status: 400, detail: 'Upgrade: websocket and Connection: upgrade are required' };
  if (String(req.headers['sec-websocket-version'] ?? '').trim() !== '13') return { status: 400, detail: 'Sec-WebSocket-Version must be 13' };
  if (!req.headers['sec-websocket-key']) return { status: 400, detail: 'Sec-WebSocket-Key is required' };
  return undefined;
}

/** Writes a refusal on a raw upgrade socket (there is no response object yet) and closes it. */
export function refuseUpgrade(socket: Duplex, status: number, title: string, detail: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json\r\ncache-control: no-store\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`);
}

export interface WebSocketInput {
  bytes(chunk: Buffer): void;
  ended(reason: string): void;
}

/**
 * WebSocket mode of /connect (spec §2.6): each outbound unit is one binary message; inbound binary
 * messages are stream bytes, text messages are standard base64 (silently dropped when invalid),
 * pings are answered with the same data (ws does that), a close ends the input.
 */
export class WebSocketConnect {
  private readonly server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_FRAME_LEN + 16, clientTracking: false });

  constructor() {
    this.server.on('headers', (headers) => headers.push('x-commucat-connect-mode: websocket'));
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer, onOpen: (sink: ConnectSink, attach: (input: WebSocketInput) => void) => void): void {
    this.server.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const sink: ConnectSink = {
        writeUnit: (unit) => ws.send(unit, { binary: true }),
        end: () => ws.close(1000),
        pauseInput: () => ws.pause(),
        resumeInput: () => ws.resume(),
        established: () => undefined, // WebSocket mode gets no server keepalives
      };
      onOpen(sink, (input) => {
        ws.on('message', (data: RawData, isBinary: boolean) => {
          const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
          if (isBinary) return input.bytes(bytes);
          const text = bytes.toString('utf8').trim();
          if (STRICT_BASE64.test(text)) input.bytes(Buffer.from(text, 'base64'));
        });
        ws.on('close', () => input.ended('websocket closed'));
        ws.on('error', () => input.ended('websocket error'));
      });
    });
  }

  close(): void {
    this.server.close();
  }
}
