/**
 * Phase timings of one operation on stderr, for finding where the run path spends its time:
 * `PETI_TRACE=1 petid ...` prints `trace <key> +<ms since the key's first mark> <what>` lines. Off by default
 * (one boolean test per mark).
 */
const enabled = process.env.PETI_TRACE === '1';
const firsts = new Map<string, bigint>();

export function trace(key: string, what: string): void {
  if (!enabled) return;
  const now = process.hrtime.bigint();
  let first = firsts.get(key);
  if (first === undefined) {
    first = now;
    firsts.set(key, now);
    if (firsts.size > 1000) firsts.delete(firsts.keys().next().value!);
  }
  process.stderr.write(`trace ${key.slice(0, 8)} +${(Number(now - first) / 1e6).toFixed(1)} ${what}\n`);
}
