// Scheduling settings for tests and benches: the config schema's defaults (the product's only ones),
// an in-memory store, and the overrides a test is about.
import { schedulingSettings } from "../../cli/config/scheduling.ts";
import { configSchema } from "../../cli/config/schema.ts";
import type { SchedulingSettings } from "../../coordinator/placement/settings.ts";

export function testSchedulingSettings(overrides: Partial<SchedulingSettings> = {}): SchedulingSettings {
  const defaults = schedulingSettings(configSchema.parse({}));
  if (defaults === false) throw new Error("scheduling is off by default");
  return { ...defaults, storePath: ":memory:", ...overrides };
}
