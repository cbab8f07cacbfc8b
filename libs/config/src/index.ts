export { ConfigError, type ConfigErrorCode, type ConfigIssue, type ConfigSource } from './errors';
export type { FederationPeerConfig } from './fields';
export { parseHostPort, type HostPort } from './host-port';
export {
  DEFAULT_CONFIG_PATH,
  EX_CONFIG,
  loadConfig,
  loadConfigOrExit,
  type LoadConfigOptions,
  type LoadConfigOrExitOptions,
} from './load';
export {
  CONFIG_KEYS,
  LEDGER_MODES,
  LOG_LEVELS,
  type LedgerMode,
  SERVICE_NAMES,
  TRANSPORT_ENCRYPTION_MODES,
  type CommucatConfig,
  type ConfigKey,
  type GatewayBinds,
  type LogLevel,
  type ServiceBinds,
  type ServiceName,
  type TransportEncryption,
} from './schema';
