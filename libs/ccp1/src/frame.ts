import type { FrameType } from './frame-types';
import type { JsonValue } from './json-value';

/** Control payloads hold a parsed JSON value; opaque payloads hold raw bytes. */
export type FramePayload = { kind: 'control'; value: JsonValue } | { kind: 'opaque'; bytes: Uint8Array };

/** One CCP-1 frame. `channel` and `sequence` are u32 values carried as JS numbers. */
export interface Frame {
  type: FrameType;
  channel: number;
  sequence: number;
  payload: FramePayload;
}

export function controlFrame(type: FrameType, channel: number, sequence: number, value: JsonValue): Frame {
  return { type, channel, sequence, payload: { kind: 'control', value } };
}

export function opaqueFrame(type: FrameType, channel: number, sequence: number, bytes: Uint8Array): Frame {
  return { type, channel, sequence, payload: { kind: 'opaque', bytes } };
}
