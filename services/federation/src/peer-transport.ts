import * as https from 'node:https';

export interface PeerTlsOptions {
  /** PEM CA bundle trusted for peers (in addition to nothing: a private CA replaces the defaults). */
  readonly ca?: string | Buffer;
  readonly rejectUnauthorized?: boolean;
  readonly timeoutMs?: number;
}

export interface PeerResponse {
  readonly status: number;
}

/** POSTs a JSON body to `<base url>/federation/events` over HTTPS through `agent` (it holds the TLS trust settings). */
export function postEvent(baseUrl: string, body: string, headers: Record<string, string>, agent: https.Agent, timeoutMs = 10_000): Promise<PeerResponse> {
  const url = new URL('/federation/events', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  if (url.protocol !== 'https:') return Promise.reject(new Error(`peer URL must be https: ${baseUrl}`));
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'commucat-federation/1', ...headers },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
        response.on('error', reject);
      },
    );
    // One small request per event on a kept-alive socket: Nagle would hold it back for an ACK.
    request.on('socket', (socket) => socket.setNoDelay(true));
    request.on('timeout', () => request.destroy(new Error('peer request timed out')));
    request.on('error', reject);
    request.end(body);
  });
}
