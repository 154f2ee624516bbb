import pino from "pino";
import { describe, expect, it } from "vitest";
import { encode, type NodeTelemetry, topicsFor } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, telemetry } from "../../test/support/fleet-messages.ts";
import { createIngest } from "./ingest.ts";
import { birthRangeProblem, telemetryRangeProblem } from "./telemetry-range.ts";

const base = () => telemetry({ session: 1, seq: 1 });

describe("telemetryRangeProblem", () => {
  const cpu = (t: NodeTelemetry) => t.cpu as NonNullable<NodeTelemetry["cpu"]>;
  const fs0 = (t: NodeTelemetry) => t.filesystems[0] as NodeTelemetry["filesystems"][0];
  const cases: Array<[string, (t: NodeTelemetry) => void, string | undefined]> = [
    ["a real sample", () => {}, undefined],
    [
      "cpu NaN",
      (t) => {
        cpu(t).usagePercent = Number.NaN;
      },
      "non_finite",
    ],
    [
      "cpu Infinity",
      (t) => {
        cpu(t).usagePercent = Number.POSITIVE_INFINITY;
      },
      "non_finite",
    ],
    [
      "cpu 250 %",
      (t) => {
        cpu(t).usagePercent = 250;
      },
      "out_of_range",
    ],
    [
      "cpu negative",
      (t) => {
        cpu(t).usagePercent = -1;
      },
      "out_of_range",
    ],
    [
      "load NaN",
      (t) => {
        cpu(t).load5m = Number.NaN;
      },
      "non_finite",
    ],
    [
      "core usage above 1000 ‰",
      (t) => {
        cpu(t).coreUsagePermille = [1001];
      },
      "out_of_range",
    ],
    [
      "100,000 cores",
      (t) => {
        cpu(t).cores = 100_000;
      },
      "out_of_range",
    ],
    [
      "memory 2^60 bytes",
      (t) => {
        (t.memory as NonNullable<NodeTelemetry["memory"]>).totalBytes = 2n ** 60n;
      },
      "out_of_range",
    ],
    [
      "disk use NaN",
      (t) => {
        fs0(t).usePercent = Number.NaN;
      },
      "non_finite",
    ],
    [
      "5,000 filesystems",
      (t) => {
        t.filesystems = Array.from({ length: 5000 }, () => ({ ...fs0(t) }));
      },
      "out_of_range",
    ],
    [
      "temperature -Infinity",
      (t) => {
        t.cpuTemperatureCelsius = Number.NEGATIVE_INFINITY;
      },
      "non_finite",
    ],
    [
      "no temperature",
      (t) => {
        t.cpuTemperatureCelsius = undefined;
      },
      undefined,
    ],
    [
      "rx 2^63 bytes/s",
      (t) => {
        const nic = t.network?.interfaces[0];
        if (nic) nic.rxBytesPerSec = 2n ** 63n;
      },
      "out_of_range",
    ],
  ];
  it.each(cases)("%s", (_name, change, reason) => {
    const t = base();
    change(t);
    expect(telemetryRangeProblem(t)?.reason).toBe(reason);
  });
});

describe("ingest with a node reporting NaN", () => {
  it("rejects the sample by reason and keeps the node's last good sample", () => {
    const root = "k3s-fleet/v1";
    const topics = topicsFor(root);
    let clock = 1_000_000;
    const ingest = createIngest({
      fleet: FLEET_DEFAULTS,
      root,
      maxPayloadBytes: 65_536,
      logger: pino({ level: "silent" }),
      now: () => clock,
    });
    ingest.handle(
      topics.telemetry("a"),
      encode("telemetry", telemetry({ session: 1, seq: 1, cpu: 30, timeMs: clock })),
    );
    clock += 1000;
    ingest.handle(
      topics.telemetry("a"),
      encode("telemetry", telemetry({ session: 1, seq: 2, cpu: Number.NaN, timeMs: clock })),
    );
    ingest.handle(
      topics.telemetry("a"),
      encode("telemetry", telemetry({ session: 1, seq: 3, cpu: 1e30, timeMs: clock })),
    );
    expect(ingest.counters().rejected).toEqual({ non_finite: 1, out_of_range: 1 });
    expect(ingest.fleet.nodes.get("a")?.latest?.cpuPercent).toBe(30);
  });
});

describe("birthRangeProblem", () => {
  const make = () => birth({ nodeId: "a", session: 1, intervalMs: 1000 });
  it("accepts a real birth", () => {
    expect(birthRangeProblem(make())).toBeUndefined();
  });
  it("refuses a long string anywhere, a long list, too many labels", () => {
    const longHost = make();
    longHost.hostname = "h".repeat(10_000);
    expect(birthRangeProblem(longHost)).toMatchObject({ reason: "out_of_range" });
    const longLabel = make();
    longLabel.labels = { k: "v".repeat(321) };
    expect(birthRangeProblem(longLabel)?.detail).toMatch(/birth\.labels\.k is 321 characters/);
    const manyLabels = make();
    manyLabels.labels = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, "v"]));
    expect(birthRangeProblem(manyLabels)).toMatchObject({ reason: "out_of_range" });
    const deep = make();
    if (deep.os) deep.os.kernel = "k".repeat(400);
    expect(birthRangeProblem(deep)?.detail).toMatch(/birth\.os\.kernel/);
  });
  it("ingest rejects such a birth by reason and keeps the node's good one", () => {
    const root = "k3s-fleet/v1";
    const topics = topicsFor(root);
    const ingest = createIngest({
      fleet: FLEET_DEFAULTS,
      root,
      maxPayloadBytes: 65_536,
      logger: pino({ level: "silent" }),
      now: () => 1,
    });
    ingest.handle(topics.birth("a"), encode("birth", make()));
    const bad = make();
    bad.hostname = "h".repeat(5000);
    ingest.handle(topics.birth("a"), encode("birth", bad));
    expect(ingest.counters().rejected).toEqual({ out_of_range: 1 });
    expect(ingest.fleet.nodes.get("a")?.birth?.hostname).toBe(make().hostname);
  });
});
