import { parseCallMediaProfile, parseCallMediaProfileJson, planForReceiver, type CallMediaProfile, type SenderStream, type VideoResolution } from '@commucat/media-format';

/** One output stream the media service makes for some receivers. */
export interface TranscodeGroup {
  /** "vp8-320x180": the media service keeps one encoder per tag. */
  readonly tag: string;
  readonly resolution: VideoResolution | undefined;
  readonly recipients: string[];
}

/** Who gets a sender's stream as it is, who gets which re-encoded stream, and who cannot get it. */
export interface DeliveryPlan {
  readonly forward: string[];
  readonly transcode: TranscodeGroup[];
  readonly undeliverable: Array<{ deviceId: string; reason: string }>;
}

/**
 * A receiver's profile from its stored JSON: none at all (an offer without `media`) is the spec's
 * default profile, which has no video; JSON that no longer parses (it was checked at offer/answer
 * time) is undefined, and such a receiver is treated like the sender.
 */
export function receiverProfile(mediaJson: string | undefined): CallMediaProfile | undefined {
  try {
    return mediaJson === undefined ? parseCallMediaProfile(undefined) : parseCallMediaProfileJson(mediaJson);
  } catch {
    return undefined;
  }
}

/**
 * Per-subscriber delivery of one sender stream (spec calls-media §4.2 without its anchor): each
 * receiver's own profile decides; receivers needing the same codec and size share one stream.
 */
export function planDelivery(sender: SenderStream, receivers: ReadonlyArray<{ deviceId: string; profile: CallMediaProfile | undefined }>): DeliveryPlan {
  const plan: DeliveryPlan = { forward: [], transcode: [], undeliverable: [] };
  const groups = new Map<string, TranscodeGroup>();
  for (const receiver of receivers) {
    const decision = receiver.profile === undefined ? { plan: 'forward' as const } : planForReceiver(sender, receiver.profile);
    if (decision.plan === 'forward') {
      plan.forward.push(receiver.deviceId);
    } else if (decision.plan === 'undeliverable') {
      plan.undeliverable.push({ deviceId: receiver.deviceId, reason: decision.reason });
    } else {
      const size = decision.resolution;
      const tag = `${decision.codec}-${size ? `${size.width}x${size.height}` : 'profile'}`;
      let group = groups.get(tag);
      if (!group) {
        group = { tag, resolution: size, recipients: [] };
        groups.set(tag, group);
        plan.transcode.push(group);
      }
      group.recipients.push(receiver.deviceId);
    }
  }
  return plan;
}
