/**
 * The smallest logger shape the storage helpers need. A pino logger satisfies it; so does
 * anything else with these methods. Without a logger, diagnostics are dropped on purpose:
 * the helpers never write to stdout/stderr on their own.
 */
export interface StorageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: StorageLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
