/** A plain-text table: a header row, a dashed rule, then one line per row, columns padded to fit. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = (cell: string) => cell.replace(/[\r\n\t]+/g, ' ');
  const body = rows.map((row) => headers.map((_, i) => clean(row[i] ?? '')));
  const widths = headers.map((header, i) => Math.max(header.length, ...body.map((row) => row[i]!.length)));
  // The last column is not padded, so lines carry no trailing spaces.
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

/** `key=value` lines, the reference CLI's output form; values are printed as they are. */
export function renderKeyValues(entries: readonly (readonly [string, string | number | undefined])[]): string {
  return entries.filter(([, value]) => value !== undefined).map(([key, value]) => `${key}=${value}\n`).join('');
}
