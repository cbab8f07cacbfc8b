import { type ClientHttp2Session, constants as http2Constants } from 'node:http2';
import { type JsonValue, parseJson } from '@commucat/ccp1';
import { hexToBytes } from '@commucat/crypto';
import { CLIENT_USER_AGENT, openHttp2Session, parseServerUrl, type TlsOptions } from './connect-stream';
import { ClientError, HttpStatusError, toClientError } from './errors';
import { isJsonObject } from './json-object';

export interface FetchServerInfoOptions extends TlsOptions {
  /** Reuse this HTTP/2 session (it stays open). */
  session?: ClientHttp2Session;
  /** Default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 1 << 20;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * GET /api/server-info (Appendix A) on the URL's origin, parsed losslessly. Throws
 * HttpStatusError for a non-200 answer and ClientError('Protocol') for a body that is not a JSON
 * object.
 */
export async function fetchServerInfo(url: string, options: FetchServerInfoOptions = {}): Promise<Record<string, JsonValue>> {
  const parsed = parseServerUrl(url);
  const session = options.session ?? openHttp2Session(parsed, options);
  try {
    const { status, body } = await getBody(session, '/api/server-info', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (status !== 200) throw new HttpStatusError(status, body.subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8'));
    let info: JsonValue;
    try {
      info = parseJson(body);
    } catch (error) {
      throw new ClientError('Protocol', 'server-info is not valid JSON', { cause: error });
    }
    if (!isJsonObject(info)) throw new ClientError('Protocol', 'server-info is not a JSON object');
    return info;
  } finally {
    if (options.session === undefined) session.close();
  }
}

/**
 * What the real client's `init` needs from server-info: `domain` and `noise_public` are required
 * (Appendix A); the noise key is the server static key for the handshake (§3.2).
 */
export function serverStaticFromInfo(info: Record<string, JsonValue>): { domain: string; serverStatic: Buffer } {
  const domain = info['domain'];
  const noisePublic = info['noise_public'];
  if (typeof domain !== 'string') throw new ClientError('Protocol', 'server-info has no domain');
  if (typeof noisePublic !== 'string') throw new ClientError('Protocol', 'server-info has no noise_public');
  try {
    return { domain, serverStatic: hexToBytes(noisePublic, 32) };
  } catch (error) {
    throw new ClientError('Protocol', 'server-info noise_public is not 32 bytes of hex', { cause: error });
  }
}

function getBody(session: ClientHttp2Session, path: string, timeoutMs: number): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let stream;
    try {
      stream = session.request({ ':method': 'GET', ':path': path, accept: 'application/json', 'user-agent': CLIENT_USER_AGENT });
    } catch (error) {
      reject(toClientError(error, 'GET server-info'));
      return;
    }
    const timer = setTimeout(() => {
      stream.close(http2Constants.NGHTTP2_CANCEL);
      reject(new ClientError('Timeout', `GET ${path} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    let status = 0;
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        clearTimeout(timer);
        stream.close(http2Constants.NGHTTP2_CANCEL);
        reject(new ClientError('Protocol', `GET ${path}: body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status, body: Buffer.concat(chunks) });
    });
    stream.on('error', (error) => {
      clearTimeout(timer);
      reject(toClientError(error, `GET ${path}`));
    });
  });
}
