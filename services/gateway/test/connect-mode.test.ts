import { selectConnectMode } from '../src/connect-mode';

describe('selectConnectMode (spec §2.2, TV-MODE-01)', () => {
  test.each([
    ['transport=WS', {}, 'websocket'],
    ['mode=bogus&mode=sse', {}, 'sse'],
    ['mode=%73se', {}, 'binary'], // not percent-decoded
    ['MODE= Long-Poll ', {}, 'long-poll'],
    ['mode=stream', { 'x-connect-mode': 'sse' }, 'binary'],
    ['', { 'x-connect-mode': 'poll' }, 'long-poll'],
    ['', { 'x-connect-mode': 'nope', 'x-commucat-connect-mode': 'eventstream' }, 'sse'],
    ['', { upgrade: 'WebSocket', connection: 'keep-alive, Upgrade' }, 'websocket'],
    ['', { upgrade: 'websocket', connection: 'keep-alive' }, 'binary'],
    ['', { accept: 'text/html, text/event-stream' }, 'sse'],
    ['', { accept: 'text/event-stream;q=1' }, 'binary'],
    ['', {}, 'binary'],
  ])('query %p headers %p → %s', (query, headers, expected) => {
    expect(selectConnectMode(query, headers)).toBe(expected);
  });
});
