import { isIP } from 'node:net';
import { ConfigError } from './errors';

export interface HostPort {
  /** Host name or IP address; IPv6 without brackets (as node:net and node:http expect). */
  readonly host: string;
  /** 0..65535; 0 asks the OS for a free port. */
  readonly port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Returns the parsed address, or a short reason why `text` is not `host:port`. */
export function tryParseHostPort(text: string): HostPort | string {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return 'expected [ipv6]:port';
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) return 'not an IPv6 address inside brackets';
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return 'port missing';
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return 'IPv6 addresses need brackets, e.g. [::1]:8443';
    if (host === '') return 'host missing';
    if (isIP(host) === 0 && !HOSTNAME.test(host)) return 'host is not a valid name or IP address';
  }
  if (!/^\d{1,5}$/.test(portText)) return 'port must be a number';
  const port = Number(portText);
  if (port > 65535) return 'port must be at most 65535';
  return { host, port };
}

/** Parses `host:port` / `[v6]:port`; throws ConfigError (CONFIG_INVALID_VALUE) otherwise. */
export function parseHostPort(text: string): HostPort {
  const parsed = tryParseHostPort(text);
  if (typeof parsed === 'string') {
    throw ConfigError.single('CONFIG_INVALID_VALUE', `invalid host:port ${JSON.stringify(text)}: ${parsed}`);
  }
  return parsed;
}
