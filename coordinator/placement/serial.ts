// One queue for every decision, whatever asked for it (a pending pod, an MQTT request): tasks run one at
// a time in arrival order, so two decisions never see the same free capacity. A failing task rejects its
// own promise and never blocks the ones behind it.

export interface SerialQueue {
  /** Runs `task` after every task queued before it; resolves or rejects with its result. */
  run<T>(task: () => T | Promise<T>): Promise<T>;
  /** Tasks queued or running. */
  readonly size: number;
  /** Resolves when every task queued so far has finished. */
  idle(): Promise<void>;
}

export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  let size = 0;
  const settle = (): void => {
    size--;
  };
  return {
    run<T>(task: () => T | Promise<T>): Promise<T> {
      size++;
      const result = tail.then(task);
      tail = result.then(settle, settle);
      return result;
    },
    get size() {
      return size;
    },
    idle: () => tail.then(() => undefined),
  };
}
