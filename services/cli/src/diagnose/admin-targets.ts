import { readFileSync } from 'node:fs';
import { type CommucatConfig, SERVICE_NAMES, type ServiceName } from '@commucat/config';
import { parse as parseToml } from 'smol-toml';

/**
 * The admin endpoints an operator configured explicitly (COMMUCAT_<NAME>_ADMIN_BIND or
 * `[services.<name>] admin_bind` in the config file). Defaults are not probed: they name ports
 * on this host that may belong to another fleet, or to none when the services run elsewhere.
 */
export function configuredAdminBinds(config: CommucatConfig, env: NodeJS.ProcessEnv): [ServiceName, string][] {
  const inFile = adminBindsInFile(config.configPath);
  const binds: [ServiceName, string][] = [];
  for (const service of SERVICE_NAMES) {
    const fromEnv = env[`COMMUCAT_${service.toUpperCase()}_ADMIN_BIND`];
    if ((fromEnv !== undefined && fromEnv !== '') || inFile.has(service)) binds.push([service, config.services[service].adminBind]);
  }
  return binds;
}

function adminBindsInFile(path: string | undefined): Set<string> {
  const found = new Set<string>();
  if (path === undefined) return found;
  // loadConfig already read and validated this file; a read failure here just means "none".
  let document: Record<string, unknown>;
  try {
    document = parseToml(readFileSync(path, 'utf8'));
  } catch {
    return found;
  }
  const services = document['services'];
  if (typeof services !== 'object' || services === null) return found;
  for (const [name, table] of Object.entries(services as Record<string, unknown>)) {
    if (typeof table === 'object' && table !== null && 'admin_bind' in table) found.add(name);
  }
  return found;
}
