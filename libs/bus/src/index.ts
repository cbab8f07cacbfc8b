export type { BusCodec, ProtoMessageFns } from './codec';
export { protoCodec } from './codec';
export { BusError, isBusError } from './errors';
export type { BusErrorCode } from './errors';
export type { BusLogger } from './logger';
export { defineSubject } from './subject-def';
export type { MessageOf, ParamsOf, PatternParams, SubjectDef, SubjectParams } from './subject-def';
export { Subjects } from './subjects';
export { Streams } from './streams';
export type { SubjectCatalogue, SubjectName } from './subjects';
export type {
  Bus,
  BusSubscription,
  ConsumeDurableOptions,
  DurableConsumer,
  DurableMessageMeta,
  DurablePublishAck,
  DurablePublishOptions,
  MessageHandler,
  MessageMeta,
  PublishOptions,
  RequestHandler,
  StreamOptions,
  SubscribeOptions,
} from './bus-types';
export { connectBus, natsAuthOf, REPLY_ERROR_HEADER } from './nats-bus';
export type { ConnectBusOptions, NatsAuth } from './nats-bus';
export { ensureStream } from './ensure-stream';
export { RouterNoticePublisher } from './router-notices';
export { type FrameTiming, timingFromHeaders, timingHeaders } from './timing-headers';
