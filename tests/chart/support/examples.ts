import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXAMPLE_VALUES_DIR } from './paths';

/** Every example values file (k8s/values-*.yaml), sorted, as absolute paths — new ones are picked up. */
export function exampleValuesFiles(): string[] {
  if (!fs.existsSync(EXAMPLE_VALUES_DIR)) return [];
  return fs
    .readdirSync(EXAMPLE_VALUES_DIR)
    .filter((f) => /^values-.+\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(EXAMPLE_VALUES_DIR, f));
}
