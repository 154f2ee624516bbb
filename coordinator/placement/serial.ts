// One queue for every decision, whatever asked for it (a pending pod, an MQTT request): tasks run one at
// a time in arrival order, so two decisions never see the same free capacity. A failing task rejects its
// own promise and never blocks the ones behind it. Requests from outside (MQTT) use `offer`, which refuses
// a task once `maxQueued` are waiting or running, so one client cannot queue thousands of decisions; the
// cluster's own pending pods use `run` (bounded by the cluster).

export interface SerialQueue {
  /** Runs `task` after every task queued before it; resolves or rejects with its result. */
  run<T>(task: () => T | Promise<T>): Promise<T>;
  /** As `run`, or undefined (the task not queued) when `maxQueued` tasks are already queued or running. */
  offer<T>(task: () => T | Promise<T>): Promise<T> | undefined;
  /** The bound `offer` applies. */
  readonly maxQueued: number;
  /** Tasks queued or running. */
  readonly size: number;
  /** Resolves when every task queued so far has finished. */
  idle(): Promise<void>;
}

export function createSerialQueue(options: { maxQueued?: number } = {}): SerialQueue {
  const maxQueued = options.maxQueued ?? Number.POSITIVE_INFINITY;
  let tail: Promise<unknown> = Promise.resolve();
  let size = 0;
  const settle = (): void => {
    size--;
  };
  function run<T>(task: () => T | Promise<T>): Promise<T> {
    size++;
    const result = tail.then(task);
    tail = result.then(settle, settle);
    return result;
  }
  return {
    run,
    offer: (task) => (size >= maxQueued ? undefined : run(task)),
    maxQueued,
    get size() {
      return size;
    },
    idle: () => tail.then(() => undefined),
  };
}
