import type { CommucatConfig } from '@commucat/config';

const HOUR_MS = 3_600_000;

export interface KindPolicy {
  enabled: boolean;
  intervalMs: number;
  graceMs: number;
  maxVersions: number;
}

/** security.rotation.* resolved to milliseconds (the *_seconds keys override the *_hours ones). */
export interface RotationPolicy {
  noise: KindPolicy;
  admin: KindPolicy & { tokenFile?: string };
  tickMs: number;
}

export function rotationPolicy(rotation: CommucatConfig['security']['rotation']): RotationPolicy {
  const ms = (seconds: number | undefined, hours: number): number => (seconds !== undefined ? seconds * 1000 : hours * HOUR_MS);
  return {
    noise: {
      enabled: rotation.noiseEnabled,
      intervalMs: ms(rotation.noiseIntervalSeconds, rotation.noiseIntervalHours),
      graceMs: ms(rotation.noiseGraceSeconds, rotation.noiseGraceHours),
      maxVersions: rotation.noiseMaxVersions,
    },
    admin: {
      enabled: rotation.adminEnabled,
      intervalMs: ms(rotation.adminIntervalSeconds, rotation.adminIntervalHours),
      graceMs: ms(rotation.adminGraceSeconds, rotation.adminGraceHours),
      maxVersions: rotation.adminMaxVersions,
      ...(rotation.adminTokenFile !== undefined ? { tokenFile: rotation.adminTokenFile } : {}),
    },
    tickMs: rotation.tickSeconds * 1000,
  };
}

/** No rotation at all: the first keys never rotate nor expire (today's `make up` behaviour). */
export const STATIC_POLICY: RotationPolicy = {
  noise: { enabled: false, intervalMs: 168 * HOUR_MS, graceMs: 48 * HOUR_MS, maxVersions: 3 },
  admin: { enabled: false, intervalMs: 168 * HOUR_MS, graceMs: 72 * HOUR_MS, maxVersions: 2 },
  tickMs: 60_000,
};

/** Timing of a fresh version (spec §3.2): rotates after the interval, expires after the grace. */
export function lifetime(kind: KindPolicy, now: Date): { rotatesAt: Date | null; expiresAt: Date | null } {
  if (!kind.enabled) return { rotatesAt: null, expiresAt: null };
  const rotatesAt = new Date(now.getTime() + kind.intervalMs);
  return { rotatesAt, expiresAt: new Date(rotatesAt.getTime() + kind.graceMs) };
}

/** A version created before rotation was enabled has no rotates_at: it is due one interval after it began. */
export function isDue(kind: KindPolicy, newest: { validAfter: Date; rotatesAt: Date | null }, now: Date): boolean {
  const due = newest.rotatesAt ?? new Date(newest.validAfter.getTime() + kind.intervalMs);
  return now.getTime() >= due.getTime();
}
