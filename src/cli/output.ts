import { compileTemplate, renderTable } from './format/index.js';

/**
 * Print rows as docker does: the default table, `table ...` templates with headers, plain templates one row per
 * line, or `json` for one JSON object per line.
 */
export function printRows(
  out: NodeJS.WritableStream,
  format: string | undefined,
  defaultFormat: string,
  rows: object[],
  headers: Record<string, string>,
  raw?: object[],
): void {
  const f = format ?? defaultFormat;
  if (f === 'json') {
    for (const r of raw ?? rows) out.write(JSON.stringify(r) + '\n');
    return;
  }
  out.write(renderTable(f, rows, headers));
}

/** `inspect`-style output: an indented JSON array, or one template result per object. */
export function printInspect(out: NodeJS.WritableStream, format: string | undefined, objs: unknown[]): void {
  if (!format) {
    out.write(JSON.stringify(objs, null, 4) + '\n');
    return;
  }
  if (format === 'json') {
    out.write(JSON.stringify(objs) + '\n');
    return;
  }
  const t = compileTemplate(format);
  for (const o of objs) out.write(t(o) + '\n');
}
