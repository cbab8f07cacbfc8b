import { z } from 'zod';
import { callUnary, GrpcStatusError } from '@commucat/service-kit';
import { RestError, type ProblemCode } from './problems.js';
import type { RestDeps } from './rest-deps.js';
import type { RequestContext, RouteSpec } from './route.js';
import { restSchemas } from './schemas.js';

/** Trailer in which the federation service names why it refused an event. */
export const FEDERATION_ERROR_TRAILER = 'commucat-federation-error';

/** Signed events carry a hex frame (twice its size); frames are at most a few MiB. */
const EVENT_BODY_LIMIT = 8 * 1024 * 1024;
const FEDERATION_DEADLINE_MS = 15_000;

const PROBLEM_BY_FEDERATION_CODE: Record<string, ProblemCode> = {
  malformed: 'malformed-event',
  unknown_peer: 'unknown-peer',
  bad_signature: 'bad-signature',
  stale: 'stale-event',
  wrong_scope: 'wrong-scope',
  replay: 'replayed-event',
  invalid_payload: 'invalid-payload',
  invalid_target: 'invalid-target',
  unknown_target: 'unknown-target',
  not_permitted: 'not-permitted',
  delivery_failed: 'delivery-failed',
};

export const FederationEventResponse = z.strictObject({
  status: z.enum(['accepted', 'duplicate']).describe('accepted: delivered now (202); duplicate: this exact event was delivered before (200)'),
  event_id: z.string(),
});
restSchemas.add(FederationEventResponse, { id: 'FederationEventResponse' });

/** A refusal keeps the federation service's reason; federation unreachable is a 503 the peer retries. */
function federationProblem(err: unknown): RestError {
  if (GrpcStatusError.is(err)) {
    const trailer = err.metadata.get(FEDERATION_ERROR_TRAILER)[0];
    const code = typeof trailer === 'string' ? PROBLEM_BY_FEDERATION_CODE[trailer] : undefined;
    if (code) return RestError.of(code, err.message || undefined);
  }
  return RestError.of('unavailable', 'federation is unavailable, retry later');
}

/**
 * POST /federation/events (spec rest-storage-ops §5.4): a peer's signed event, passed verbatim
 * to the federation service, which checks allow-list, signature, freshness, scope and replay
 * and delivers it. Not under the per-IP HTTP limit: peers are few, authenticated by signature,
 * and send in bursts after an outage.
 */
export function federationRoutes(deps: RestDeps): RouteSpec[] {
  const events: RouteSpec = {
    method: 'POST', path: '/federation/events', operationId: 'federationEvent',
    summary: 'A signed event from an allow-listed peer domain (spec §5.3)',
    auth: 'none',
    unlimited: true,
    body: { kind: 'binary', contentTypes: ['application/json'], maxBytes: EVENT_BODY_LIMIT },
    success: {
      202: { description: 'verified and delivered', schema: FederationEventResponse },
      200: { description: 'already delivered (a sender retry)', schema: FederationEventResponse },
    },
    problems: ['malformed-event', 'unknown-peer', 'bad-signature', 'stale-event', 'wrong-scope', 'replayed-event', 'invalid-payload', 'invalid-target', 'unknown-target', 'not-permitted', 'delivery-failed', 'unavailable'],
    async handle({ body, req }: RequestContext<Buffer>) {
      if (!deps.federation) throw RestError.of('unavailable', 'federation is not enabled on this server');
      if (body.length === 0) throw RestError.of('malformed-event', 'empty body');
      const eventType = req.headers['x-commucat-federation-event-type'];
      try {
        const result = await callUnary(deps.federation, 'receive', {
          body, headers: typeof eventType === 'string' ? { 'x-commucat-federation-event-type': eventType } : {},
        }, { deadlineMs: FEDERATION_DEADLINE_MS, waitForReady: false });
        return { status: result.status === 'duplicate' ? 200 : 202, body: { status: result.status, event_id: result.eventId } };
      } catch (err) {
        const problem = federationProblem(err);
        if (problem.status >= 500) deps.logger.warn({ err: (err as Error).message }, 'federation receive failed');
        throw problem;
      }
    },
  };
  return [events];
}
