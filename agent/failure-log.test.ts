import pino from "pino";
import { describe, expect, it } from "vitest";
import { createFailureLog } from "./failure-log.ts";

function capture() {
  const lines: { level: number; msg: string; failures?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, logger };
}

describe("failure log", () => {
  it("logs the first failure, then at most one reminder per period, then the recovery", () => {
    const { lines, logger } = capture();
    let mono = 0;
    const log = createFailureLog({
      logger,
      message: "sampling failed",
      everyMs: 60_000,
      monotonic: () => mono,
    });
    for (let i = 0; i < 120; i += 1) {
      log.failed(new Error("EIO"));
      mono += 1_000; // one failure per second for two minutes
    }
    log.recovered();
    log.recovered();
    expect(lines.map((l) => [l.msg, l.failures])).toEqual([
      ["sampling failed", 1],
      ["sampling failed", 61],
      ["sampling failed: recovered", 120],
    ]);
    expect(log.failures).toBe(0);
  });
});
