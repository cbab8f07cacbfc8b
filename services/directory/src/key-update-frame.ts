import { FrameType, controlFrame, encodeFrame } from '@commucat/ccp1';
import { certificateToJson, type DeviceCertificate } from '@commucat/crypto';

export interface AppliedRotation {
  deviceId: string;
  userId: string;
  publicKey: Buffer;
  oldPublicKey: Buffer;
  rotationId: string;
  eventId: string;
  certificate: DeviceCertificate;
}

/**
 * The KEY_UPDATE (0x09) control frame of spec ccp1-wire §7.9. Always JSON: client 1.0.103 fails
 * on a KEY_UPDATE payload that is not. The certificate stays an object with a lossless serial
 * (often beyond 2^53), so its signature still verifies on the receiving side.
 */
export function keyUpdateFrame(rotation: AppliedRotation, channel: number): Buffer {
  return encodeFrame(controlFrame(FrameType.KeyUpdate, channel, 0, {
    type: 'device-key-rotated',
    device_id: rotation.deviceId,
    user_id: rotation.userId,
    public_key: rotation.publicKey.toString('hex'),
    old_public_key: rotation.oldPublicKey.toString('hex'),
    rotation_id: rotation.rotationId,
    event_id: rotation.eventId,
    certificate: certificateToJson(rotation.certificate),
    issued_at: rotation.certificate.issuedAt,
    expires_at: rotation.certificate.expiresAt,
  }));
}
