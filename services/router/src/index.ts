export { MembershipStore } from './membership-store.js';
export { FanOut } from './fan-out.js';
export type { FanOutOptions, Outgoing, QueueOptions } from './fan-out.js';
export { FrameHandlers } from './frame-handlers.js';
export { GroupFrames } from './group-frames.js';
export type { GroupFramesOptions } from './group-frames.js';
export { GroupStore } from './group-store.js';
export type { GroupMember } from './group-store.js';
export { objectPayload, parseGroupCreate, parseGroupInvite } from './group-payloads.js';
export type { GroupCreateRequest, GroupInviteRequest, GroupRole } from './group-payloads.js';
export { mergeChannelMembers } from './channel-merge.js';
export type { FrameHandlersOptions, HandleOutcome } from './frame-handlers.js';
export { PresenceFrames } from './presence-frames.js';
export type { PresenceFramesOptions } from './presence-frames.js';
export { parsePresenceState, presenceFrameFor } from './presence-payload.js';
export { InboundLoop } from './inbound-loop.js';
export type { InboundLoopOptions } from './inbound-loop.js';
export { NoticeLoop } from './notice-loop.js';
export type { NoticeLoopOptions } from './notice-loop.js';
export { KeyedSerialQueue, SerialQueue } from './serial-queue.js';
export { registerActiveCallsGauge, routerMetrics } from './router-metrics.js';
export { CallFrames } from './call-frames.js';
export type { CallFramesOptions } from './call-frames.js';
export { CallStore, ENDED_CALL_RETENTION_SECONDS, activeParticipants } from './call-store.js';
export type { CallChange, CallView, Departure, NewCall, ParticipantState, RingTimeout } from './call-store.js';
export { CallSignals } from './call-signals.js';
export type { CallSignalsOptions } from './call-signals.js';
export { CallSweeper } from './call-sweeper.js';
export { CallDisconnects } from './call-disconnects.js';
export type { CallDisconnectsOptions } from './call-disconnects.js';
export type { CallSweeperOptions } from './call-sweeper.js';
export { CallPresenceLoop } from './call-presence-loop.js';
export type { CallPresenceLoopOptions } from './call-presence-loop.js';
export {
  CALL_END_REASONS, CALL_REJECT_REASONS, TRANSPORT_UPDATE_KINDS,
  parseCallAnswer, parseCallEnd, parseCallOffer, parseCallStats, parseTransportUpdate,
} from './call-payloads.js';
export type {
  CallAnswerPayload, CallEndPayload, CallEndReason, CallMediaDirection, CallOfferPayload, CallRejectReason, CallStatsPayload,
  TransportUpdateKind, TransportUpdatePayload,
} from './call-payloads.js';
export type { RouterMetrics } from './router-metrics.js';
export { ackReply, errorReply } from './replies.js';
export { parseJoin, typingForRecipients } from './payloads.js';
export type { JoinRequest } from './payloads.js';
export { RouterError, isRouterError } from './errors.js';
export type { RouterErrorCode } from './errors.js';
export { FLEET_CALL_DEADLINE_MS, MAX_CHANNEL_MEMBERS } from './limits.js';
export { MediaFrames, type MediaFramesOptions } from './media-frames.js';
export { MediaReplicas, MEDIA_REPLICA_TIMEOUT_MS } from './media-replicas.js';
export { planDelivery, type DeliveryPlan, type TranscodeGroup } from './media-plan.js';
export { CallStatsRecorder } from './call-stats-recorder.js';
export { summariseCallStats, type CallStatsSummary, type StreamSummary } from './call-stats-summary.js';
