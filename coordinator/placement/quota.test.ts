import { describe, expect, it } from "vitest";
import type { PodObject } from "./inputs.ts";
import { createRequestQuota, REQUESTED_BY_ANNOTATION } from "./quota.ts";

const pod = (cpu: string, memory: string, by?: string, phase = "Running"): PodObject =>
  ({
    metadata: {
      name: "p",
      namespace: "default",
      ...(by ? { annotations: { [REQUESTED_BY_ANNOTATION]: by } } : {}),
    },
    spec: { containers: [{ name: "c", resources: { requests: { cpu, memory } } }] },
    status: { phase },
  }) as PodObject;

describe("createRequestQuota rate", () => {
  it("allows a burst of a tenth of the minute's requests, then one per 60/N s, per requester", () => {
    const quota = createRequestQuota({ requestsPerMinute: 60, cpuMillis: 0, memoryBytes: 0 });
    const burst = Array.from({ length: 7 }, () => quota.admit("ops", 0));
    expect(burst.filter((r) => r === undefined)).toHaveLength(6);
    expect(burst[6]).toMatch(/more than 60 schedule requests a minute from ops/);
    expect(quota.admit("other", 0)).toBeUndefined(); // its own bucket
    expect(quota.admit("ops", 999)).toMatch(/quota/);
    expect(quota.admit("ops", 1000)).toBeUndefined(); // one a second refills
    expect(quota.admit("ops", 1000)).toMatch(/quota/);
  });

  it("0 requests a minute is unbounded", () => {
    const quota = createRequestQuota({ requestsPerMinute: 0, cpuMillis: 0, memoryBytes: 0 });
    for (let i = 0; i < 1000; i++) expect(quota.admit("ops", 0)).toBeUndefined();
  });
});

describe("createRequestQuota resources", () => {
  const quota = createRequestQuota({ requestsPerMinute: 0, cpuMillis: 1000, memoryBytes: 1024 ** 3 });
  const owned = [
    pod("600m", "256Mi", "ops"),
    pod("2", "4Gi", "someone-else"),
    pod("2", "4Gi"), // not created by a request
    pod("2", "4Gi", "ops", "Succeeded"), // finished: no longer counts
  ];

  it.each([
    ["fits", pod("400m", "256Mi"), undefined],
    ["cpu over", pod("401m", "1Mi"), /ops's pods request 600m CPU; 401m more would exceed its 1000m/],
    [
      "memory over",
      pod("100m", "769Mi"),
      /268435456 bytes of memory; 806354944 more would exceed its 1073741824/,
    ],
  ])("%s", (_name, asked, expected) => {
    const problem = quota.resourceProblem("ops", asked, owned);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it("unset bounds refuse nothing", () => {
    const open = createRequestQuota({ requestsPerMinute: 0, cpuMillis: 0, memoryBytes: 0 });
    expect(open.resourceProblem("ops", pod("64", "1Ti"), owned)).toBeUndefined();
  });
});
