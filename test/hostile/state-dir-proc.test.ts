// A state directory under /proc (a mistyped --state-dir, or the host's /proc mounted at /host/proc): Node's
// own recursive mkdir spins there for ever at 100 % CPU, so the agent and the coordinator hung at start with
// no output at all. They now stop at once with the path and the reason (common/make-dir.ts).
import { describe, expect, it } from "vitest";
import { runCliToEnd } from "../support/cli.ts";
import { freePort } from "../support/ports.ts";

const dir = `/proc/k3sf-${process.pid}-none/state`;

describe.runIf(process.platform === "linux")("a state dir under /proc", () => {
  it("stops the agent at once with the reason", async () => {
    const port = await freePort();
    const r = await runCliToEnd(
      ["agent", "--broker", `mqtt://127.0.0.1:${port}`, "--node-name", "proc-pi", "--state-dir", dir],
      {},
      15_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(dir);
  });

  it("stops the coordinator at once with the reason", async () => {
    const port = await freePort();
    const r = await runCliToEnd(
      [
        ...["coordinator", "--embedded-broker", `127.0.0.1:${port}`, "--http-listen", "off"],
        ...["--standalone", "--quiet", "--state-dir", dir],
      ],
      {},
      15_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot open scheduling store ${dir}/scheduling.sqlite`);
  });
});
