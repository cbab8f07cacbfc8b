import { randomBytes } from 'node:crypto';
import { DeviceKeyPair, x25519PublicKey } from '@commucat/crypto';
import type { z } from 'zod';
import { rfc3339 } from '../rfc3339.js';
import type { RestDeps } from './rest-deps.js';
import type { RequestContext, RouteSpec } from './route.js';
import { P2pAssistRequest, P2pAssistResponse } from './schemas.js';

type AssistRequest = z.infer<typeof P2pAssistRequest>;

interface PlannedPath {
  id: string;
  address: string;
  port: number;
  priority: number;
  realityFingerprint: string | null;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * The paths the advice is about: the caller's hints, or the server's primary and a backup.
 * Addresses are only echoed back — the gateway never connects to anything a caller names
 * (weakness §11.7: no SSRF, no port-scan oracle).
 */
export function planPaths(req: AssistRequest, domain: string): PlannedPath[] {
  const hints = req.paths ?? [];
  const paths: PlannedPath[] = hints.length > 0
    ? hints.map((p, i) => ({ id: p.id ?? `path-${i + 1}`, address: p.address, port: p.port ?? 443, priority: p.priority ?? 100, realityFingerprint: p.reality_fingerprint?.toLowerCase() ?? null }))
    : [
        { id: 'primary', address: domain, port: 443, priority: 0, realityFingerprint: null },
        { id: 'backup', address: req.peer_hint ?? `relay.${domain}`, port: 443, priority: 1, realityFingerprint: null },
      ];
  // Stable sort: equal priorities keep the caller's order.
  return paths.map((p, i) => ({ p, i })).sort((a, b) => a.p.priority - b.p.priority || a.i - b.i).map(({ p }) => p);
}

/**
 * FEC sample plan like the reference's self-test: a 3×MTU payload gives 3 source symbols and
 * ceil(3 × overhead) repair symbols; sources go round-robin over all paths, repairs over paths
 * 2..n (all on the only path when there is one).
 */
export function sampleSegments(pathIds: string[], overhead: number): Record<string, { total: number; repair: number }> {
  const out: Record<string, { total: number; repair: number }> = {};
  for (const id of pathIds) out[id] = { total: 0, repair: 0 };
  if (pathIds.length === 0) return out;
  const source = 3;
  const repair = overhead > 0 ? Math.max(1, Math.ceil(source * overhead)) : 0;
  for (let i = 0; i < source; i++) out[pathIds[i % pathIds.length]!]!.total += 1;
  const repairPaths = pathIds.length > 1 ? pathIds.slice(1) : pathIds;
  for (let i = 0; i < repair; i++) {
    const seg = out[repairPaths[i % repairPaths.length]!]!;
    seg.total += 1;
    seg.repair += 1;
  }
  return out;
}

const UNMEASURED = { rtt_ms: 0, jitter_ms: 0, packet_loss_percent: 0, bandwidth_kbps: 0, quality_score: 0, quality_label: 'unknown', probe_method: 'none' };

export function p2pAssistRoutes(deps: RestDeps): RouteSpec[] {
  const post: RouteSpec = {
    method: 'POST', path: '/api/p2p/assist', operationId: 'p2pAssist',
    summary: 'Peer-to-peer connection advice: fresh Noise seed, ICE credentials, path plan (nothing is probed)',
    auth: 'session',
    body: { kind: 'json', schema: P2pAssistRequest, optional: true },
    success: { 200: { description: 'advice', schema: P2pAssistResponse } },
    problems: [],
    async handle({ body, req }: RequestContext<AssistRequest>) {
      // An empty body (or a GET) behaves like {"prefer_reality": true}; null means default.
      const empty = req.method === 'GET' || Object.keys(body).length === 0;
      const preferReality = body.prefer_reality ?? empty;
      const paths = planPaths(body, deps.domain);
      // Nothing is established, so min_paths (validated) cannot fail: every planned path is advice.
      const chosen = paths;
      const mtu = body.fec ? clamp(body.fec.mtu ?? 1152, 512, 2048) : 1200;
      const overhead = body.fec ? body.fec.repair_overhead ?? 0.35 : 0.25;
      const segments = sampleSegments(chosen.map((p) => p.id), overhead);
      const totalSegments = Object.values(segments).reduce((n, s) => n + s.total, 0);
      deps.security.recordAssist(chosen.length, totalSegments);

      const transports = chosen.map((p) => (p.realityFingerprint
        ? { path_id: p.id, transport: 'Reality', resistance: 'Maximum', latency: 'High', throughput: 'High', network_quality: UNMEASURED }
        : { path_id: p.id, transport: 'WebSocket', resistance: 'Basic', latency: 'Medium', throughput: 'Medium', network_quality: UNMEASURED }));
      const seed = randomBytes(32);
      const ttl = clamp(deps.pairingTtlSeconds, 60, 3600);
      const reality = chosen.find((p) => p.realityFingerprint)?.realityFingerprint ?? null;
      return {
        status: 200,
        body: {
          noise: {
            pattern: 'Xk', prologue_hex: deps.prologue.toString('hex'),
            device_seed_hex: seed.toString('hex'), static_public_hex: Buffer.from(x25519PublicKey(DeviceKeyPair.fromSeed(seed).privateKey)).toString('hex'),
          },
          // Always present (mismatch M2): the real client cannot decode an answer without it.
          pq: { identity_public_hex: '', signed_prekey_public_hex: '', kem_public_hex: '', signature_public_hex: '' },
          ice: {
            username_fragment: randomBytes(8).toString('hex'), password: randomBytes(32).toString('hex'),
            ttl_secs: ttl, keepalive_interval_secs: clamp(deps.keepaliveSeconds, 5, 120), trickle: true,
            expires_at: rfc3339(Date.now() + ttl * 1000),
          },
          transports,
          multipath: { fec_mtu: mtu, fec_overhead: overhead, primary_path: chosen[0]?.id ?? null, sample_segments: segments },
          obfuscation: {
            reality_fingerprint_hex: reality ?? null,
            domain_fronting: transports.some((t) => t.transport === 'WebSocket'),
            protocol_mimicry: transports.some((t) => t.transport === 'Reality') || (preferReality && reality !== null),
            tor_bridge: false,
          },
          security: await deps.security.snapshot(),
          keepalive: { enabled: true, ping_interval_secs: 30, pong_timeout_secs: 10, max_missed_pongs: 3 },
          reconnect: { strategy: 'exponential_backoff', initial_backoff_secs: 1, max_backoff_secs: 60, max_attempts: 0 },
        },
      };
    },
  };
  const get: RouteSpec = { ...post, method: 'GET', operationId: 'p2pAssistDefaults', summary: 'Like POST with an empty body', body: undefined };
  return [post, get];
}

export type P2pAssistJson = z.infer<typeof P2pAssistResponse>;
