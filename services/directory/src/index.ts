export { HelloAuthorizer } from './hello-authorizer.js';
export type { HelloPolicy } from './hello-authorizer.js';
export type { CertificateAuthority } from './certificate-authority.js';
export { SecretsCertificateAuthority } from './secrets-authority.js';
export { directoryHandlers } from './directory-service.js';
export { sessionStore } from './session-store.js';
export { friendStore } from './friend-store.js';
