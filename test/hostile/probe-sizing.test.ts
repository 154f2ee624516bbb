// deploy/k3s's coordinator probes are sized from a measurement (issue 12: hammering /metrics at 20,000
// nodes made /healthz miss the 1 s liveness timeout). The measured figure is the probe-health run recorded
// in bench/hostile-results.md; the manifest must wait well above it and not act on one slow answer.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

interface Probe {
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

/** The slowest /healthz of every probe-health run recorded (with the /metrics cache on), in ms. */
function measuredHealthMaxMs(): number {
  const runs = [...read("bench/hostile-results.md").matchAll(/```json\n([\s\S]*?)\n```/g)]
    .map((m) => JSON.parse(m[1] as string) as Record<string, unknown>)
    .filter((r) => r.mode === "probe-health" && r.metricsMaxAgeMs === 5000 && Number(r.nodes) >= 20_000);
  expect(runs.length).toBeGreaterThan(0);
  return Math.max(...runs.map((r) => (r.healthMs as { max: number }).max));
}

describe("coordinator probes in deploy/k3s", () => {
  const docs = parseAllDocuments(read("deploy/k3s/40-coordinator.yaml")).map((d) => d.toJS());
  const deployment = docs.find((d) => d?.kind === "Deployment");
  const container = deployment?.spec?.template?.spec?.containers?.[0] as
    | { livenessProbe?: Probe; readinessProbe?: Probe }
    | undefined;
  const measured = measuredHealthMaxMs();

  it.each(["livenessProbe", "readinessProbe"] as const)(
    "%s waits at least 3 × the slowest /healthz measured under /metrics load, and acts after 3 misses",
    (which) => {
      const probe = container?.[which];
      expect(probe).toBeDefined();
      // Kubernetes' defaults where a field is not set: timeoutSeconds 1, failureThreshold 3.
      expect((probe?.timeoutSeconds ?? 1) * 1000).toBeGreaterThanOrEqual(3 * measured);
      expect(probe?.failureThreshold ?? 3).toBeGreaterThanOrEqual(3);
      expect(probe?.timeoutSeconds ?? 1).toBeLessThanOrEqual(probe?.periodSeconds ?? 10);
    },
  );
});
