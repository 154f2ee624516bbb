// `--log FILE` that cannot be opened (issue 12, Low): the start failed with pino's unhandled 'error' event
// trace ("sonic boom is not ready yet", or an ENOTDIR stack) or silently with exit code 1. Now it is one
// line naming the file and the cause, and the exit code says it failed.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openLogFile } from "../../cli/logger.ts";
import { runCliToEnd } from "../support/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "k3sf-log-"));
const notADirectory = join(dir, "plain-file");
writeFileSync(notADirectory, "");

describe("--log FILE that cannot be opened", () => {
  it.each([
    ["coordinator", ["coordinator", "--standalone", "--http-listen", "off"]],
    ["agent", ["agent", "--broker", "mqtt://127.0.0.1:1", "--state-dir", join(dir, "state")]],
  ])("%s: one line naming the file and the cause, exit code 1", async (_name, args) => {
    const file = join(notADirectory, "k3s-fleet.log");
    const result = await runCliToEnd([...args, "--log", file]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toEqual([expect.stringContaining(`cannot open the log file ${file}: ENOTDIR`)]);
  });

  it("opens (creating parents) a file that can be written", () => {
    expect(openLogFile(join(dir, "new", "k3s-fleet.log"))).toBeGreaterThan(2);
    expect(() => openLogFile(join(notADirectory, "x.log"))).toThrow(
      expect.objectContaining({ code: "K3SF_ERR_LOG_FILE" }),
    );
  });
});
