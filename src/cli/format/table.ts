/**
 * Listing output the way the docker CLI's formatter prints it: `table ...` formats get a header row and columns
 * aligned by an elastic-tabstop writer configured as docker configures it (minwidth 10, tabwidth 1, padding 3,
 * pad with spaces); other formats print one template result per row; the word `json` prints one JSON object per row.
 */
import { parseTemplate, HEADER_FUNCTIONS } from './template.js';

export interface TabwriterOptions {
  /** Minimal cell width including padding. Docker: 10. */
  minwidth?: number;
  /** Added to the widest cell of a column. Docker: 3. */
  padding?: number;
}

/** Display width of a string: wide East Asian characters count 2, combining marks 0 (docker uses go-runewidth). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (/\p{Mn}|\p{Me}|\p{Cf}/u.test(ch)) continue;
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

function isWide(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd);
}

/**
 * Align tab-terminated cells like Go's text/tabwriter (flags 0, padchar ' '). A column is formed by cells in
 * consecutive lines that end with a tab; the text after a line's last tab is not part of any column and is never
 * padded. Each contiguous block of a column gets its own width: max(minwidth, widest cell + padding).
 */
export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const minwidth = opts.minwidth ?? 10;
  const padding = opts.padding ?? 3;
  const lines = text.split('\n').map((l) => l.split('\t'));
  const widths: number[] = [];
  let out = '';

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i] as string[];
      cells.forEach((cell, j) => {
        const w = widths[j];
        out += w === undefined ? cell : cell + ' '.repeat(Math.max(0, w - displayWidth(cell)));
      });
      if (i + 1 < lines.length) out += '\n';
    }
  };

  const format = (from: number, to: number): void => {
    const column = widths.length;
    let line0 = from;
    for (let cur = from; cur < to; cur++) {
      if (column >= (lines[cur] as string[]).length - 1) continue;
      // A block of this column starts here: print what lies before it with the widths known so far.
      writeLines(line0, cur);
      line0 = cur;
      let width = minwidth;
      for (; cur < to; cur++) {
        const cells = lines[cur] as string[];
        if (column >= cells.length - 1) break;
        width = Math.max(width, displayWidth(cells[column] ?? '') + padding);
      }
      widths.push(width);
      format(line0, cur);
      widths.pop();
      line0 = cur;
    }
    writeLines(line0, to);
  };

  format(0, lines.length);
  return out;
}

export interface RenderOptions {
  /** Used when the format is empty or just `table` (each docker command has its own default). */
  defaultFormat?: string;
}

/** Docker's format keywords: a format starting with `table` prints a header and aligned columns. */
export function isTableFormat(format: string): boolean {
  return format.startsWith('table');
}

/** Row objects may hold getters as functions (like docker's context methods); `json` prints their values. */
function materialize(row: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'function' ? (v as () => unknown).call(row) : v;
  return out;
}

/**
 * Render rows with a docker `--format` value. `headers` maps field names to column titles (`Repository` →
 * `REPOSITORY`, `ID` → `IMAGE ID`); a field without a title heads its column with `<no value>`, as Go's map lookup
 * would. Returns the full text, each row ending in a newline. Throws InvalidArgument (`template parsing error: ...`).
 */
export function renderTable(
  format: string,
  rows: readonly object[],
  headers: Readonly<Record<string, string>>,
  opts: RenderOptions = {},
): string {
  let fmt = format;
  if ((fmt === '' || fmt === 'table') && opts.defaultFormat !== undefined) fmt = opts.defaultFormat;

  if (fmt === 'json') {
    const t = parseTemplate('{{json .}}', { sortJsonKeys: true });
    return rows.map((r) => `${t.execute(materialize(r))}\n`).join('');
  }

  const table = isTableFormat(fmt);
  // Docker strips the keyword, trims spaces (only spaces), then expands \t and \n.
  const body = (table ? fmt.slice('table'.length) : fmt).replace(/^ +| +$/g, '');
  const t = parseTemplate(body, { sortJsonKeys: true });
  const lines = rows.map((r) => `${t.execute(r)}\n`).join('');
  if (!table) return lines;

  let header: string;
  try {
    header = t.execute(headers, HEADER_FUNCTIONS);
  } catch {
    // Docker ignores header errors (a header run with titles instead of values may not type-check).
    header = '';
  }
  return tabwrite(`${header}\n${lines}`);
}
