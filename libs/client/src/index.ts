// Public surface of @commucat/client: a CCP-1 client that behaves on the wire like the real
// CommuCat CLI client (spec ccp1-wire.md §2.3, §3, §4), plus HEAD's optional Noise transport.

export {
  ClientError,
  HandshakeRejectedError,
  ConnectionClosedError,
  HttpStatusError,
  type ClientErrorCode,
} from './errors';
export { type DeviceIdentity, type CreateDeviceIdentityOptions, createDeviceIdentity } from './identity';
export { connectClient, type ConnectClientOptions, type ClientConnection } from './connection';
export { ReliableClient, RELAY_ACK_CAPABILITY, IDEMPOTENT_SEND_CAPABILITY, type ReliableClientOptions } from './reliable-client';
export {
  openConnectStream,
  connectPath,
  CLIENT_USER_AGENT,
  type OpenConnectStreamOptions,
  type TlsOptions,
} from './connect-stream';
export { fetchServerInfo, serverStaticFromInfo, type FetchServerInfoOptions } from './server-info';
export { buildHello, type HelloInputs } from './hello';
export { storedCertificateProblem } from './certificate-policy';
export { saveIdentityState, loadIdentityState, type IdentityState } from './identity-state';
export { runSmokeCheck, SmokeCheckError, type SmokeCheckOptions, type SmokeCheckResult, type SmokeStep, type SmokeStepName } from './smoke-check';
