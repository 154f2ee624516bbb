// Drives a sliced computation (a generator that yields between slices) on the event loop: after each
// slice it waits for the next turn, so socket reads and timers queued meanwhile run before the next slice.
// This keeps a large report from holding up ingest for the whole time it takes to build.
import { setImmediate as nextTurn } from "node:timers/promises";

export async function runSliced<T>(slices: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = slices.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}
