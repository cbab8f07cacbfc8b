import { CodecError, FrameType, frameTypeLabel, isControlType, isFrameType } from '@commucat/ccp1';

describe('frame types (§1.4)', () => {
  const table: Array<[FrameType, string, boolean, boolean]> = [
    // type, label, control in 1.0.103, control in 1.0.41
    [FrameType.Hello, 'hello', true, true],
    [FrameType.Auth, 'auth', true, true],
    [FrameType.Join, 'join', true, true],
    [FrameType.Leave, 'leave', true, true],
    [FrameType.Msg, 'msg', false, false],
    [FrameType.Ack, 'ack', true, true],
    [FrameType.Typing, 'typing', true, true],
    [FrameType.Presence, 'presence', true, true],
    [FrameType.KeyUpdate, 'key_update', true, false],
    [FrameType.GroupCreate, 'group_create', true, true],
    [FrameType.GroupInvite, 'group_invite', true, true],
    [FrameType.GroupEvent, 'group_event', true, true],
    [FrameType.Error, 'error', true, true],
    [FrameType.CallOffer, 'call_offer', true, true],
    [FrameType.CallAnswer, 'call_answer', true, true],
    [FrameType.CallEnd, 'call_end', true, true],
    [FrameType.VoiceFrame, 'voice_frame', false, false],
    [FrameType.VideoFrame, 'video_frame', false, false],
    [FrameType.CallStats, 'call_stats', true, true],
    [FrameType.TransportUpdate, 'transport_update', true, false],
  ];

  it('numbers the types 0x01..0x14 in table order', () => {
    expect(table.map(([type]) => type)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it.each(table)('type %i: label %s, control(1.0.103)=%p, control(1.0.41)=%p', (type, label, newer, older) => {
    expect(frameTypeLabel(type)).toBe(label);
    expect(isControlType(type)).toBe(newer);
    expect(isControlType(type, '1.0.103')).toBe(newer);
    expect(isControlType(type, '1.0.41')).toBe(older);
  });

  it('knows 0x14 only in 1.0.103', () => {
    expect(isFrameType(0x14, '1.0.103')).toBe(true);
    expect(isFrameType(0x14, '1.0.41')).toBe(false);
    expect(isFrameType(0x13, '1.0.41')).toBe(true);
  });

  it('rejects 0x00, 0x15..0xff and non-integers', () => {
    for (const type of [0x00, 0x15, 0x7f, 0xff, 1.5, -1]) {
      expect(isFrameType(type)).toBe(false);
      expect(isControlType(type)).toBe(false);
      expect(() => frameTypeLabel(type as FrameType)).toThrow(CodecError);
    }
  });
});
