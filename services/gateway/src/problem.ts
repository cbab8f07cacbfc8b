import type { Http2ServerResponse } from 'node:http2';
import type { ServerResponse } from 'node:http';

export type AnyResponse = ServerResponse | Http2ServerResponse;

/** RFC 9457 problem+json in the reference's shape (`type`, `title`, `status`, optional `detail`). */
export function sendProblem(res: AnyResponse, status: number, title: string, detail?: string, headers: Record<string, string> = {}): void {
  const body: Record<string, unknown> = { type: 'about:blank', title, status };
  if (detail !== undefined) body.detail = detail;
  sendJson(res, status, body, 'application/problem+json', headers);
}

export function sendJson(res: AnyResponse, status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  (res as ServerResponse).writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
