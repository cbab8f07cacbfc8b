import type { RemoteMember } from './fan-out.js';

/**
 * Channel members are device ids; `device@domain` names a device on another domain (spec §5.1:
 * relay targets split at the first `@`). Our own domain, in any case, means a local device.
 */
export function localDeviceId(member: string, localDomain: string): string {
  const at = member.indexOf('@');
  return at > 0 && member.slice(at + 1).toLowerCase() === localDomain.toLowerCase() ? member.slice(0, at) : member;
}

/** Splits recipients into local device ids and members on other domains. */
export function splitMembers(members: readonly string[], localDomain: string): { local: string[]; remote: RemoteMember[] } {
  const local: string[] = [];
  const remote: RemoteMember[] = [];
  for (const member of members) {
    const id = localDeviceId(member, localDomain);
    const at = id.indexOf('@');
    if (at > 0 && at < id.length - 1) remote.push({ target: id, domain: id.slice(at + 1).toLowerCase() });
    else local.push(id);
  }
  return { local, remote };
}
