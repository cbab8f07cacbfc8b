import { CodecError } from './errors';

/**
 * Frame types (spec §1.4). Which payload kind a frame carries depends only on its type and on the
 * crate version being imitated ("dialect"):
 *
 *   num   name             1.0.103 (HEAD, default)   1.0.41 (real client)   NDJSON label
 *   0x01  Hello            control                   control                hello
 *   0x02  Auth             control                   control                auth
 *   0x03  Join             control                   control                join
 *   0x04  Leave            control                   control                leave
 *   0x05  Msg              opaque                    opaque                 msg
 *   0x06  Ack              control                   control                ack
 *   0x07  Typing           control                   control                typing
 *   0x08  Presence         control                   control                presence
 *   0x09  KeyUpdate        control                   OPAQUE                 key_update
 *   0x0a  GroupCreate      control                   control                group_create
 *   0x0b  GroupInvite      control                   control                group_invite
 *   0x0c  GroupEvent       control                   control                group_event
 *   0x0d  Error            control                   control                error
 *   0x0e  CallOffer        control                   control                call_offer
 *   0x0f  CallAnswer       control                   control                call_answer
 *   0x10  CallEnd          control                   control                call_end
 *   0x11  VoiceFrame       opaque                    opaque                 voice_frame
 *   0x12  VideoFrame       opaque                    opaque                 video_frame
 *   0x13  CallStats        control                   control                call_stats
 *   0x14  TransportUpdate  control                   UNKNOWN → InvalidFrameType  transport_update
 *
 * Every other type byte (0x00, 0x15–0xff) is InvalidFrameType in both dialects.
 * Only the decoder is dialect-aware; the encoder writes whatever payload it is given.
 */
export enum FrameType {
  Hello = 0x01,
  Auth = 0x02,
  Join = 0x03,
  Leave = 0x04,
  Msg = 0x05,
  Ack = 0x06,
  Typing = 0x07,
  Presence = 0x08,
  KeyUpdate = 0x09,
  GroupCreate = 0x0a,
  GroupInvite = 0x0b,
  GroupEvent = 0x0c,
  Error = 0x0d,
  CallOffer = 0x0e,
  CallAnswer = 0x0f,
  CallEnd = 0x10,
  VoiceFrame = 0x11,
  VideoFrame = 0x12,
  CallStats = 0x13,
  TransportUpdate = 0x14,
}

/** '1.0.103' = HEAD crates (test-vector harness); '1.0.41' = what the real CLI client links. */
export type Dialect = '1.0.103' | '1.0.41';
export const DEFAULT_DIALECT: Dialect = '1.0.103';

const LABELS: readonly string[] = [
  '', // 0x00 is not a frame type
  'hello',
  'auth',
  'join',
  'leave',
  'msg',
  'ack',
  'typing',
  'presence',
  'key_update',
  'group_create',
  'group_invite',
  'group_event',
  'error',
  'call_offer',
  'call_answer',
  'call_end',
  'voice_frame',
  'video_frame',
  'call_stats',
  'transport_update',
];

/** True if the type byte names a frame type that this dialect's decoder knows. */
export function isFrameType(type: number, dialect: Dialect = DEFAULT_DIALECT): type is FrameType {
  if (!Number.isInteger(type) || type < FrameType.Hello) return false;
  return dialect === '1.0.41' ? type < FrameType.TransportUpdate : type <= FrameType.TransportUpdate;
}

/** True if frames of this type carry control JSON in this dialect (false for unknown types). */
export function isControlType(type: number, dialect: Dialect = DEFAULT_DIALECT): boolean {
  if (!isFrameType(type, dialect)) return false;
  switch (type) {
    case FrameType.Msg:
    case FrameType.VoiceFrame:
    case FrameType.VideoFrame:
      return false;
    case FrameType.KeyUpdate:
      return dialect !== '1.0.41';
    default:
      return true;
  }
}

/** The snake_case label HEAD uses in NDJSON lines (§2.5); throws InvalidFrameType for unknown types. */
export function frameTypeLabel(type: FrameType): string {
  if (!isFrameType(type, '1.0.103')) throw new CodecError('InvalidFrameType');
  return LABELS[type] as string;
}
