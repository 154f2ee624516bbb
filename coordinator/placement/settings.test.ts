import { describe, expect, it } from "vitest";
import { testSchedulingSettings } from "../../test/support/scheduling-settings.ts";
import { SchedulingConfigError } from "./errors.ts";
import { resolveSettings as resolve, type SchedulingSettings } from "./settings.ts";

const resolveSettings = (overrides: Partial<SchedulingSettings> = {}) =>
  resolve(testSchedulingSettings(overrides));

describe("resolveSettings", () => {
  it("the schema's defaults: the default namespace only, Docker Official Images, 4 CPU / 8Gi", () => {
    const s = resolveSettings();
    expect([...s.namespaces]).toEqual(["default"]);
    expect(s.allowedRegistries).toEqual(["docker.io/library"]);
    expect(s.maxCpuMilli).toBe(4000n);
    expect(s.maxMemoryBytes).toBe(8n * 1024n ** 3n);
    expect(s.schedulerName).toBe("k3s-fleet");
    expect(s.bindRetries).toBe(2); // internal tuning, not a setting
  });

  it("an empty namespace list means the default namespace", () => {
    expect([...resolveSettings({ defaultNamespace: "apps" }).namespaces]).toEqual(["apps"]);
    expect([
      ...resolveSettings({ defaultNamespace: "apps", allowedNamespaces: ["a", "b"] }).namespaces,
    ]).toEqual(["a", "b"]);
  });

  it("lists every problem", () => {
    try {
      resolveSettings({
        schedulerName: "Bad Name",
        maxCpu: "lots",
        maxMemory: "0",
        backoffInitialMs: 5000,
        backoffMaxMs: 100,
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SchedulingConfigError);
      expect((err as SchedulingConfigError).code).toBe("K3SF_ERR_SCHEDULING_CONFIG");
      expect((err as SchedulingConfigError).problems).toEqual([
        'schedulerName "Bad Name" is not a DNS subdomain',
        expect.stringContaining("maxCpu: invalid quantity"),
        'maxMemory must be positive, got "0"',
        "backoffMaxMs must be at least backoffInitialMs",
      ]);
    }
  });
});
