export { bootstrapSecrets } from './bootstrap.js';
export type { BootstrapSettings } from './bootstrap.js';
export { SecretStore } from './secret-store.js';
export type { SecretName, StoredSecret } from './secret-store.js';
export { SecretsService } from './secrets-service.js';
export { openSecret, sealSecret } from './sealing.js';
