/** Turns one message type into bytes and back. decode throws on malformed input. */
export interface BusCodec<T> {
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/**
 * The part of ts-proto's generated `MessageFns<T>` the bus uses. Generated objects (which also
 * take an optional writer / length) are assignable to it as they are.
 */
export interface ProtoMessageFns<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** Adapts a ts-proto message (e.g. `PresenceChanged` from @commucat/contracts) to a BusCodec. */
export function protoCodec<T>(messageFns: ProtoMessageFns<T>): BusCodec<T> {
  return {
    encode: (message) => messageFns.encode(message).finish(),
    decode: (bytes) => messageFns.decode(bytes),
  };
}
