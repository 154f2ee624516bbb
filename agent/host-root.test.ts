// agent.procRoot / sysRoot / rootfs (issue 14): in a DaemonSet the agent reports the host it runs on, read
// through the host's /proc, /sys and / mounted into its container. A fake host root in a temporary
// directory, given to the real CLI through the settings, must be where filesystems, interfaces and the
// OS facts come from.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliToEnd } from "../test/support/cli.ts";
import { fakeHostRoot } from "../test/support/fake-host-root.ts";

describe("the agent reads the host through agent.procRoot, sysRoot and rootfs", () => {
  let root: string;
  let roots: { procRoot: string; sysRoot: string; rootfs: string };
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "k3sf-host-root-"));
    roots = await fakeHostRoot(root);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("capture --json reports the fake host's filesystems, interfaces and OS", async () => {
    const { code, stdout, stderr } = await runCliToEnd(["capture", "--json", "--node-name", "fake-host"], {
      K3S_FLEET_AGENT_PROC_ROOT: roots.procRoot,
      K3S_FLEET_AGENT_SYS_ROOT: roots.sysRoot,
      K3S_FLEET_AGENT_ROOTFS: roots.rootfs,
    });
    expect(code, stderr).toBe(0);
    const snapshot = JSON.parse(stdout);
    expect(snapshot.birth.filesystems.map((f: { mount: string }) => f.mount)).toEqual(["/srv/data"]);
    expect(snapshot.birth.interfaces.map((i: { name: string }) => i.name)).toEqual(["enp1s0"]);
    expect(snapshot.birth.interfaces[0]).toMatchObject({ type: "wired", speedMbps: 1000 });
    expect(snapshot.birth.os).toMatchObject({ distro: "Fake Host OS", release: "42" });
    expect(snapshot.birth.cpu).toMatchObject({ manufacturer: "ARM", model: "Cortex-A72" });
    expect(snapshot.birth.memoryTotalBytes).toBe(String(4_096_000 * 1024));
    expect(snapshot.telemetry.filesystems.map((f: { mount: string }) => f.mount)).toEqual(["/srv/data"]);
    expect(snapshot.telemetry.network).toMatchObject({
      defaultInterface: "enp1s0",
      interfaces: [{ name: "enp1s0", up: true }],
    });
  });
});
