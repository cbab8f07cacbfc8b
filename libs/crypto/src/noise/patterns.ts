export type MessageToken = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

/** The patterns CommuCat uses. */
export type NoisePattern = 'XK' | 'IK';
/** Every pattern this engine runs; NN/NK/KK/XX exist to check the engine against the cacophony vectors. */
export type NoisePatternName = NoisePattern | 'NN' | 'NK' | 'KK' | 'XX';

export interface HandshakePatternSpec {
  /** `-> s` pre-message: the responder knows the initiator's static key in advance. */
  readonly initiatorStaticPreMessage: boolean;
  /** `<- s` pre-message: the initiator knows the responder's static key in advance. */
  readonly responderStaticPreMessage: boolean;
  /** Message token lists; even indices are sent by the initiator. */
  readonly messages: readonly (readonly MessageToken[])[];
}

// Noise spec rev 34 §7.4 / §7.5.
export const HANDSHAKE_PATTERNS: Readonly<Record<NoisePatternName, HandshakePatternSpec>> = {
  NN: { initiatorStaticPreMessage: false, responderStaticPreMessage: false, messages: [['e'], ['e', 'ee']] },
  NK: { initiatorStaticPreMessage: false, responderStaticPreMessage: true, messages: [['e', 'es'], ['e', 'ee']] },
  KK: {
    initiatorStaticPreMessage: true,
    responderStaticPreMessage: true,
    messages: [
      ['e', 'es', 'ss'],
      ['e', 'ee', 'se'],
    ],
  },
  XX: {
    initiatorStaticPreMessage: false,
    responderStaticPreMessage: false,
    messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']],
  },
  XK: {
    initiatorStaticPreMessage: false,
    responderStaticPreMessage: true,
    messages: [['e', 'es'], ['e', 'ee'], ['s', 'se']],
  },
  IK: {
    initiatorStaticPreMessage: false,
    responderStaticPreMessage: true,
    messages: [
      ['e', 'es', 's', 'ss'],
      ['e', 'ee', 'se'],
    ],
  },
};

export function protocolName(pattern: NoisePatternName): string {
  return `Noise_${pattern}_25519_ChaChaPoly_BLAKE2s`;
}

/** Whether the side playing `initiator` needs its own static key for this pattern. */
export function needsLocalStatic(spec: HandshakePatternSpec, initiator: boolean): boolean {
  if (initiator ? spec.initiatorStaticPreMessage : spec.responderStaticPreMessage) return true;
  return spec.messages.some((tokens, index) => (index % 2 === 0) === initiator && tokens.includes('s'));
}
