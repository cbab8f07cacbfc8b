/** A pino destination that keeps every JSON line in memory. */
export function captureLines(): { write(line: string): void; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  return {
    write: (line: string) => void chunks.push(line),
    lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => chunks.join(''),
  };
}
