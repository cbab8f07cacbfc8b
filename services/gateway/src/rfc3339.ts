/** Unix ms → RFC 3339 UTC in chrono's `to_rfc3339()` shape (`+00:00`), as the reference writes times. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace('Z', '+00:00');

/** The same, with null for 0 ("never", e.g. a Noise key that does not expire). */
export const rfc3339OrNever = (ms: number): string | null => (ms > 0 ? rfc3339(ms) : null);
