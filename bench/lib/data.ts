/** Bench input that is the same on every machine, so runs compare. */

/** xorshift32 from a seed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** Words from a random vocabulary: compresses 2-3x with gzip, like real layers. */
export function makePool(size: number, rnd: () => number): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
  const vocab = Array.from({ length: 4000 }, () => Array.from({ length: 2 + Math.floor(rnd() * 10) }, () => alphabet[Math.floor(rnd() * 64)]).join(''));
  const parts: string[] = [];
  let len = 0;
  while (len < size) {
    const w = vocab[Math.floor(rnd() * vocab.length)] as string;
    parts.push(w, rnd() < 0.08 ? '\n' : ' ');
    len += w.length + 1;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}
