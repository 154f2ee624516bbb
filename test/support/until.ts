// The one polling wait of the tests: `until(probe)` calls `probe` every `intervalMs` until it returns a
// truthy value (and resolves with it), or rejects after `timeoutMs` naming `what` (a function is called
// then, so the message can carry a process's output). Probes may be async. For waits on a stream of
// messages, the tests' own watchers (agent.test.ts, support/placement.ts) wake on each message instead.
export type Probe<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

export async function until<T>(
  probe: Probe<T>,
  timeoutMs = 10_000,
  what: string | (() => string) = "condition",
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
