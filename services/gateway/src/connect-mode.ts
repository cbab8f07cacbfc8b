import type { IncomingHttpHeaders } from 'node:http';

export type ConnectMode = 'binary' | 'sse' | 'long-poll' | 'websocket';

const VALUES: Record<string, ConnectMode> = {
  binary: 'binary', stream: 'binary',
  sse: 'sse', 'event-stream': 'sse', eventstream: 'sse',
  'long-poll': 'long-poll', longpoll: 'long-poll', poll: 'long-poll',
  websocket: 'websocket', ws: 'websocket',
};

const modeOf = (value: string | undefined): ConnectMode | undefined => (value === undefined ? undefined : VALUES[value.trim().toLowerCase()]);
const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};
const tokens = (value: string | undefined): string[] => (value ?? '').split(',').map((t) => t.trim().toLowerCase());

/** Picks the /connect mode exactly as the reference does (spec ccp1-wire §2.2); first match wins. */
export function selectConnectMode(query: string, headers: IncomingHttpHeaders): ConnectMode {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq).toLowerCase();
    if (key !== 'mode' && key !== 'transport') continue;
    // Not percent-decoded, like the reference; unrecognised values fall through to the next pair.
    const mode = modeOf(pair.slice(eq + 1));
    if (mode) return mode;
  }
  const fromHeader = modeOf(header(headers, 'x-connect-mode')) ?? modeOf(header(headers, 'x-commucat-connect-mode'));
  if (fromHeader) return fromHeader;
  if (header(headers, 'upgrade')?.toLowerCase() === 'websocket' && tokens(header(headers, 'connection')).includes('upgrade')) return 'websocket';
  if (tokens(header(headers, 'accept')).includes('text/event-stream')) return 'sse';
  return 'binary';
}
