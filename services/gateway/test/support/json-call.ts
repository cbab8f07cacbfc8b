import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JsonReply {
  status: number;
  json: any;
}

/** One HTTP/1.1 request to an in-process REST edge; a string body is sent as is, anything else as JSON. */
export function jsonCall(server: http.Server, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<JsonReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const req = http.request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
  });
}
