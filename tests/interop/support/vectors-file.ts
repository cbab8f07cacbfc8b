// Reads tests/interop/out/vectors.json (written by `tests/interop/run.sh vectors`, layout in
// tests/interop/README.md) and rebuilds the byte strings it describes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const OUT_DIR = join(__dirname, '..', 'out');
export const VECTORS_PATH = join(OUT_DIR, 'vectors.json');

/** A byte string as a list of parts: literal hex, or a pattern repeated `count` times. */
export type BytePart = { hex: string } | { repeat_hex: string; count: number };

/** One vector; its fields depend on `kind` (see README.md). */
export type Vector = { kind: string } & Record<string, any>;

export interface VectorsFile {
  format: string;
  vector_count: number;
  vectors: Record<string, Vector>;
}

export function loadVectors(): VectorsFile {
  if (!existsSync(VECTORS_PATH)) {
    throw new Error(`${VECTORS_PATH} is missing: run tests/interop/run.sh vectors first`);
  }
  const file = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as VectorsFile;
  if (file.format !== 'commucat-interop-vectors/1') throw new Error(`unknown vectors format ${file.format}`);
  return file;
}

export function bytesFromParts(parts: BytePart[]): Buffer {
  return Buffer.concat(
    parts.map((part) =>
      'hex' in part ? Buffer.from(part.hex, 'hex') : Buffer.alloc(part.count * (part.repeat_hex.length / 2), part.repeat_hex, 'hex'),
    ),
  );
}

/** The ids of every vector of one kind, sorted, for `it.each`. */
export function idsOfKind(file: VectorsFile, kind: string): string[] {
  return Object.keys(file.vectors)
    .filter((id) => file.vectors[id]!.kind === kind)
    .sort();
}
