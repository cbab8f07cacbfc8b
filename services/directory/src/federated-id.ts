import { isAcceptableHandle } from './handle-rules.js';

/** `handle@domain` of a user on another domain, the domain lowercased (how rows store it). */
export interface RemoteUser {
  handle: string;
  domain: string;
  /** `handle@domain` */
  id: string;
}

const MAX_DOMAIN_LENGTH = 253;

/**
 * Splits `named` at the LAST `@` (spec rest-storage-ops §5.1). Undefined when it names a local
 * user: no `@`, an empty domain, or our own domain (compared case-insensitively).
 */
export function foreignDomainOf(named: string, ownDomain: string): string | undefined {
  const at = named.lastIndexOf('@');
  if (at < 0) return undefined;
  const domain = named.slice(at + 1).toLowerCase();
  if (domain === '' || domain === ownDomain.toLowerCase()) return undefined;
  return domain;
}

/** The local part of `named` when it is `x@<own domain>` or `x@`; otherwise `named` itself. */
export function localPart(named: string, ownDomain: string): string {
  const at = named.lastIndexOf('@');
  if (at < 0) return named;
  const domain = named.slice(at + 1).toLowerCase();
  return domain === '' || domain === ownDomain.toLowerCase() ? named.slice(0, at) : named;
}

/** `handle@domain` parsed and normalised; undefined unless both parts are well-formed. */
export function parseRemoteUser(named: string): RemoteUser | undefined {
  const at = named.lastIndexOf('@');
  if (at <= 0) return undefined;
  const handle = named.slice(0, at);
  const domain = named.slice(at + 1).toLowerCase();
  if (!isAcceptableHandle(handle) || !isAcceptableDomain(domain)) return undefined;
  return { handle, domain, id: `${handle}@${domain}` };
}

// Host names and host:port, as peers are configured; anything else cannot be a peer.
function isAcceptableDomain(domain: string): boolean {
  return domain.length > 0 && domain.length <= MAX_DOMAIN_LENGTH && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/.test(domain);
}
