import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@commucat/config';

/** A scratch directory per test file; returns a writer for TOML files inside it. */
export function tomlScratch(): { write(text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'commucat-config-'));
  let counter = 0;
  return {
    write(text: string): string {
      const path = join(dir, `commucat-${counter++}.toml`);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The smallest environment that loads: the one always-required key. */
export const MINIMAL_ENV = { COMMUCAT_DOMAIN: 'example.org' } as const;

/** The ConfigError `run` throws (anything else, or nothing, fails the test). */
export function loadError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
