/**
 * Where (and whether) spans are exported, from the fleet's own key and the standard OTEL_*
 * variables. Precedence, first match wins:
 *   1. OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none: nothing is exported.
 *   2. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full traces URL, used as is (the most specific
 *      setting, as in the OTel spec). Left to the OTLP exporter, which reads it itself.
 *   3. telemetry.otlp_endpoint: COMMUCAT_OTLP_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT (the
 *      config key's fallback), else the key in commucat.toml; a base URL gets `/v1/traces`
 *      appended, as the spec does for OTEL_EXPORTER_OTLP_ENDPOINT, a full traces URL is kept.
 *   4. None of them: no exporter (unlike the SDK's localhost:4318 default, so a process without a
 *      collector does not retry exports forever).
 * OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, _TIMEOUT and _COMPRESSION are read by the exporter in every
 * case; OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_* and OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES by
 * the SDK (see tracing.ts).
 */
export type ExportSettings =
  | { readonly export: false; readonly reason: 'sdk_disabled' | 'exporter_none' | 'no_endpoint' }
  /** `url` undefined: the exporter takes it from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. */
  | { readonly export: true; readonly url: string | undefined };

type Env = Readonly<Record<string, string | undefined>>;

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** OTEL_SDK_DISABLED is a boolean where only a case-insensitive "true" disables. */
export function sdkDisabled(env: Env = process.env): boolean {
  return env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
}

/**
 * OTLP/HTTP wants the full traces URL; operators usually give the collector base URL (as with
 * OTEL_EXPORTER_OTLP_ENDPOINT), so append the signal path unless it is already there.
 */
export function otlpTracesUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return trimmed.endsWith('/v1/traces') ? trimmed : `${trimmed}/v1/traces`;
}

export function exportSettings(otlpEndpoint: string | undefined, env: Env = process.env): ExportSettings {
  if (sdkDisabled(env)) return { export: false, reason: 'sdk_disabled' };
  // OTEL_TRACES_EXPORTER is a list; "none" alone turns exporting off. Only OTLP is built in.
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  if (exporters.length > 0 && exporters.every((name) => name === 'none')) return { export: false, reason: 'exporter_none' };
  if (isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) return { export: true, url: undefined };
  if (isSet(otlpEndpoint)) return { export: true, url: otlpTracesUrl(otlpEndpoint) };
  // Callers that bypass the config loader (tests, tools) still get the generic variable.
  if (isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT)) return { export: true, url: otlpTracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT) };
  return { export: false, reason: 'no_endpoint' };
}
