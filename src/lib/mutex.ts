/** A FIFO async mutex: one holder at a time, in arrival order. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const prev = this.tail;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** One mutex per key, dropped when idle. */
export class KeyedMutex {
  private readonly locks = new Map<string, { m: Mutex; n: number }>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let e = this.locks.get(key);
    if (!e) {
      e = { m: new Mutex(), n: 0 };
      this.locks.set(key, e);
    }
    e.n++;
    try {
      return await e.m.run(fn);
    } finally {
      e.n--;
      if (e.n === 0) this.locks.delete(key);
    }
  }
}
