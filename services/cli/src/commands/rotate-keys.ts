import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { CommucatConfig } from '@commucat/config';
import { DirectoryServiceClient, SecretsServiceClient } from '@commucat/contracts';
import { type DeviceCertificate, certificateToJsonString, DeviceKeyPair, randomCertificateSerial, verifyCertificate } from '@commucat/crypto';
import { CliError } from '../errors';
import { callPeer } from '../grpc-call';
import { fleetPeer } from '../fleet-peers';
import { assertWritable, writeSecretFile } from '../key-file';
import type { Output } from '../output';
import { renderKeyValues } from '../table';

/** The reference's rotate-keys issues 30-day certificates (spec rest-storage-ops §8). */
const CERTIFICATE_LIFETIME_SECONDS = 30 * 24 * 3600;
// As the reference: a 32-byte random seed; the key is derived from it as the client does (§5.1).
const SEED_BYTES = 32;

export const KEY_FILE_FORMAT = 'commucat-device-key/1';

export interface RotateKeysArgs {
  readonly userId: string;
  readonly deviceId?: string;
  readonly out: string;
  readonly force: boolean;
}

/**
 * Provisions new key material for a device of an existing user: an Ed25519 device key pair and
 * a device certificate signed by the fleet CA (in secrets). The device joins the user on its
 * first Hello with that certificate. A registered device's key cannot be replaced here (a key
 * change needs proof from the old key), so rotation = a new device id, then `devices revoke`.
 * The seed and private key go only to the 0600 file; stdout shows public values.
 */
export async function rotateKeys(config: CommucatConfig, output: Output, args: RotateKeysArgs): Promise<void> {
  const outPath = path.resolve(args.out);
  assertWritable(outPath, args.force);
  const deviceId = args.deviceId ?? `device-${Date.now()}`;

  const { devices } = await callPeer(DirectoryServiceClient, fleetPeer(config, 'directory'), 'listDevices', { userId: args.userId, currentDeviceId: '' }, output).catch(
    (err: unknown) => {
      if (err instanceof CliError && err.code === 'NOT_FOUND') {
        throw new CliError('NOT_FOUND', `no user ${args.userId}: ${err.message}`, 'pass the user_id that register-user printed', { cause: err });
      }
      throw err;
    },
  );
  if (devices.some((d) => d.deviceId === deviceId)) {
    throw new CliError(
      'ALREADY_EXISTS',
      `device ${deviceId} is already registered; its key cannot be replaced from the CLI`,
      `provision a new device id (omit --device), then retire the old one with \`commucat-cli devices revoke ${deviceId}\``,
    );
  }

  output.progress('generating an Ed25519 device key pair …');
  const seed = randomBytes(SEED_BYTES);
  const keys = DeviceKeyPair.fromSeed(seed);
  const issuedAt = Math.floor(Date.now() / 1000);
  const data = { serial: randomCertificateSerial(), userId: args.userId, deviceId, publicKey: keys.publicKey, issuedAt, expiresAt: issuedAt + CERTIFICATE_LIFETIME_SECONDS };
  const signed = await callPeer(SecretsServiceClient, fleetPeer(config, 'secrets'), 'signDeviceCertificate', {
    serial: data.serial.toString(),
    userId: data.userId,
    deviceId: data.deviceId,
    publicKey: data.publicKey,
    issuedAt: data.issuedAt,
    expiresAt: data.expiresAt,
  }, output);
  const certificate: DeviceCertificate = { ...data, issuer: Buffer.from(signed.issuer), signature: Buffer.from(signed.signature) };
  if (!verifyCertificate(certificate, certificate.issuer)) {
    throw new CliError('REFUSED', 'secrets returned a certificate signature that does not verify', 'check that secrets runs with the fleet CA key (crypto.federation_seed)');
  }
  const certificateJson = certificateToJsonString(certificate, 'sorted');

  output.progress(`writing the private key to ${outPath} (mode 0600) …`);
  writeSecretFile(
    outPath,
    `${JSON.stringify(
      {
        format: KEY_FILE_FORMAT,
        user_id: args.userId,
        device_id: deviceId,
        seed: seed.toString('hex'),
        private_key: keys.privateKey.toString('hex'),
        public_key: keys.publicKey.toString('hex'),
        // Lossless JSON (the serial exceeds 2^53), as the client stores it.
        certificate: certificateJson,
      },
      null,
      2,
    )}\n`,
    args.force,
  );

  const document = {
    user_id: args.userId,
    device_id: deviceId,
    public_key: keys.publicKey.toString('hex'),
    issuer_public: certificate.issuer.toString('hex'),
    certificate_serial: certificate.serial.toString(),
    certificate_expires_at: certificate.expiresAt,
    key_file: outPath,
  };
  // The certificate stays lossless JSON text: its serial exceeds 2^53.
  output.result({ ...document, certificate_json: certificateJson }, renderKeyValues([...Object.entries(document), ['certificate', certificateJson]]));
}
