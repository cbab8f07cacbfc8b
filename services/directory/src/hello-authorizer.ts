import type { Pool, PoolClient } from 'pg';
import { parseJson, stringifyJson } from '@commucat/ccp1';
import {
  certificateFromJson, certificateToJson, randomCertificateSerial, verifyCertificate, type DeviceCertificate,
} from '@commucat/crypto';
import { HelloVerdict, type AuthorizeHelloRequest, type AuthorizeHelloResponse } from '@commucat/contracts';
import { isUniqueViolation, withTransaction } from '@commucat/storage';
import type { CertificateAuthority } from './certificate-authority.js';
import { certificateStore } from './certificate-store.js';
import { isAcceptableHandle } from './handle-rules.js';
import { HelloRefusal, cryptoFailure, invalid, pairingRequired } from './hello-refusal.js';
import { identityStore, type UserRow } from './identity-store.js';
import { randomId } from './random-id.js';
import { sessionStore } from './session-store.js';

export interface HelloPolicy {
  domain: string;
  autoApproveDevices: boolean;
  /** 0 = unlimited, as in the reference. */
  maxAutoDevicesPerUser: number;
  sessionTtlSeconds: number;
  certificateLifetimeSeconds: number;
  /** A stored certificate is handed out again while it has at least this long to live. */
  certificateReuseMarginSeconds: number;
}

const CLOCK_SKEW_SECONDS = 300;

/**
 * Decides a Hello (spec ccp1-wire §4.2 steps 11–16) in one transaction, closing the reference's
 * takeover holes: an unknown device never joins an existing user without a certificate the CA
 * issued for it, and a known device's key is never replaced by a Hello.
 */
export class HelloAuthorizer {
  constructor(
    private readonly pool: Pool,
    private readonly ca: CertificateAuthority,
    private readonly policy: HelloPolicy,
  ) {}

  async authorize(req: AuthorizeHelloRequest): Promise<AuthorizeHelloResponse> {
    const presented = req.certificateJson !== undefined ? parsePresentedCertificate(req.certificateJson) : undefined;
    if (presented instanceof HelloRefusal) return refusedResponse(presented);
    if (req.devicePublic.length !== 32 || req.clientStatic.length !== 32 || req.deviceId === '') {
      return refusedResponse(invalid('malformed device identity'));
    }
    // Two concurrent first Hellos for one handle or device race on a unique key; the loser
    // retries and then sees the winner's row.
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTransaction(this.pool, (db) => this.decide(db, req, presented));
      } catch (err) {
        if (err instanceof HelloRefusal) return refusedResponse(err);
        if (isUniqueViolation(err) && attempt < 2) continue;
        throw err;
      }
    }
  }

  private async decide(db: PoolClient, req: AuthorizeHelloRequest, presented: DeviceCertificate | undefined): Promise<AuthorizeHelloResponse> {
    const devicePublic = Buffer.from(req.devicePublic);
    const caPublic = await this.ca.publicKey();
    if (presented && !verifyCertificate(presented, caPublic)) throw cryptoFailure('certificate signature or issuer does not verify');

    let userCreated = false;
    let deviceCreated = false;
    let user: UserRow;
    const device = await identityStore.deviceForUpdate(db, req.deviceId);
    if (device) {
      if (device.status !== 'active') throw invalid(`device status is ${device.status}`);
      if (req.userIdHint !== undefined && req.userIdHint !== device.userId) throw invalid('user id hint does not match the device owner');
      const owner = await identityStore.userById(db, device.userId);
      if (!owner) throw invalid('device owner is missing');
      if (req.handleHint !== undefined && req.handleHint !== owner.handle) throw invalid('handle hint does not match the device owner');
      // The reference silently replaced the stored key here (weakness §11.2). A key change needs
      // proof from the old key, which a Hello cannot carry: it goes through device rotation.
      if (!device.publicKey.equals(devicePublic)) throw invalid('device key differs from the registered key');
      user = owner;
    } else {
      ({ user, userCreated } = await this.resolveOwnerOfNewDevice(db, req, presented));
      await this.applyPairingGate(db, user.userId);
      await identityStore.insertDevice(db, { deviceId: req.deviceId, userId: user.userId, publicKey: devicePublic, status: 'active' }, randomId());
      deviceCreated = true;
    }

    const { certificate, issued } = await this.settleCertificate(db, req, presented, user.userId, devicePublic, caPublic);
    await identityStore.updateProfile(db, user.userId, req.displayNameHint, req.avatarUrlHint);
    const profile = (await identityStore.userById(db, user.userId)) ?? user;
    const activeDevices = await identityStore.countActiveDevices(db, user.userId);
    const session = await sessionStore.create(db, user.userId, req.deviceId, this.policy.sessionTtlSeconds);

    return {
      verdict: HelloVerdict.HELLO_VERDICT_AUTHORIZED,
      reason: '',
      user: {
        userId: profile.userId, handle: profile.handle, domain: profile.domain,
        displayName: profile.displayName ?? undefined, avatarUrl: profile.avatarUrl ?? undefined,
      },
      // Same rule as the reference (T20): this device counts, so a cap of 1 reports true.
      pairingRequired: !this.policy.autoApproveDevices || (this.policy.maxAutoDevicesPerUser > 0 && activeDevices >= this.policy.maxAutoDevicesPerUser),
      deviceCaPublic: caPublic,
      certificateJson: stringifyJson(certificateToJson(certificate)),
      certificate: { serial: certificate.serial.toString(), issuedAt: certificate.issuedAt, expiresAt: certificate.expiresAt },
      certificateIssued: issued,
      userCreated,
      deviceCreated,
      sessionToken: session.token,
      sessionExpiresAt: session.expiresAt.getTime(),
    };
  }

  /** Spec §4.2 step 13 for an unknown device, minus the takeover paths (weakness §11.1). */
  private async resolveOwnerOfNewDevice(db: PoolClient, req: AuthorizeHelloRequest, presented: DeviceCertificate | undefined): Promise<{ user: UserRow; userCreated: boolean }> {
    if (presented) {
      // The CA issued this certificate for exactly this device and key: proof enough to re-attach.
      if (presented.deviceId !== req.deviceId || !presented.publicKey.equals(Buffer.from(req.devicePublic))) {
        throw invalid('certificate does not belong to this device');
      }
      const owner = await identityStore.userById(db, presented.userId);
      if (!owner) throw invalid('certificate user does not exist');
      return { user: owner, userCreated: false };
    }
    if (req.userIdHint !== undefined) {
      const existing = await identityStore.userById(db, req.userIdHint);
      if (existing) throw pairingRequired('new device for an existing user needs pairing');
      throw invalid('unknown user id');
    }
    if (req.handleHint !== undefined) {
      if (!isAcceptableHandle(req.handleHint)) throw invalid('handle is not acceptable');
      const existing = await identityStore.userByHandle(db, req.handleHint);
      if (existing) throw pairingRequired('handle belongs to an existing user; pair the new device first');
      const user: UserRow = {
        userId: randomId(), handle: req.handleHint, domain: this.policy.domain,
        displayName: req.displayNameHint ?? null, avatarUrl: req.avatarUrlHint ?? null,
      };
      await identityStore.insertUser(db, user);
      return { user, userCreated: true };
    }
    throw invalid('unknown device and no user to attach it to');
  }

  private async applyPairingGate(db: PoolClient, userId: string): Promise<void> {
    if (!this.policy.autoApproveDevices) throw pairingRequired('auto-approval is off');
    const max = this.policy.maxAutoDevicesPerUser;
    if (max > 0 && (await identityStore.countActiveDevices(db, userId)) >= max) throw pairingRequired('device cap reached');
  }

  /** Spec §4.2 steps 14–15: accept the presented certificate, or hand out a valid one. */
  private async settleCertificate(
    db: PoolClient, req: AuthorizeHelloRequest, presented: DeviceCertificate | undefined,
    userId: string, devicePublic: Buffer, caPublic: Buffer,
  ): Promise<{ certificate: DeviceCertificate; issued: boolean }> {
    const now = Math.floor(Date.now() / 1000);
    if (presented) {
      if (presented.deviceId !== req.deviceId || presented.userId !== userId) throw invalid('certificate is bound to another device or user');
      if (presented.issuedAt >= presented.expiresAt || presented.expiresAt <= now || presented.issuedAt > now + CLOCK_SKEW_SECONDS) {
        throw invalid('certificate is outside its validity period');
      }
      if (presented.publicKey.equals(devicePublic)) return { certificate: presented, issued: false };
      // The reference reissues when the certificate names the client's Noise static key; any
      // other key mismatch is refused.
      if (!presented.publicKey.equals(Buffer.from(req.clientStatic))) throw invalid('certificate key does not match the device');
    }
    const reusable = await certificateStore.latestValid(db, req.deviceId, devicePublic, caPublic, now + this.policy.certificateReuseMarginSeconds);
    if (reusable && reusable.userId === userId) return { certificate: reusable, issued: false };
    const certificate = await this.ca.sign({
      serial: randomCertificateSerial(), userId, deviceId: req.deviceId, publicKey: devicePublic,
      issuedAt: now, expiresAt: now + this.policy.certificateLifetimeSeconds,
    });
    await certificateStore.insert(db, certificate);
    return { certificate, issued: true };
  }
}

function parsePresentedCertificate(json: string): DeviceCertificate | HelloRefusal {
  try {
    return certificateFromJson(parseJson(json));
  } catch {
    return invalid('certificate does not parse');
  }
}


function refusedResponse(refusal: HelloRefusal): AuthorizeHelloResponse {
  return {
    verdict: refusal.verdict, reason: refusal.reason, user: undefined, pairingRequired: refusal.verdict === HelloVerdict.HELLO_VERDICT_PAIRING_REQUIRED,
    deviceCaPublic: Buffer.alloc(0), certificateJson: '', certificate: undefined, certificateIssued: false,
    userCreated: false, deviceCreated: false, sessionToken: '', sessionExpiresAt: 0,
  };
}
