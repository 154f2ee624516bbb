// Coordinator service options as the end-to-end tests start it: the embedded broker on a loopback port,
// a report interval no test waits for, and the CLI's defaults for the rest. Each test adds what it is about
// (a cluster, scheduling settings) and overrides what it must.
import type { SchedulingSettings } from "../../coordinator/placement/settings.ts";
import type { ServiceOptions } from "../../coordinator/service.ts";
import { BROKER_DEFAULTS, COORDINATOR_DEFAULTS } from "./defaults.ts";
import { testSchedulingSettings } from "./scheduling-settings.ts";

export function testServiceOptions(
  options: Partial<Omit<ServiceOptions, "scheduling">> &
    Pick<ServiceOptions, "topicRoot" | "logger"> & { scheduling?: Partial<SchedulingSettings> | false },
): ServiceOptions {
  const { scheduling, ...rest } = options;
  return {
    embeddedBroker: testBroker(0),
    ...COORDINATOR_DEFAULTS,
    brokerUrl: "unused",
    reportIntervalMs: 60_000,
    defaultIntervalMs: 60_000,
    keepaliveSeconds: 5,
    ...rest,
    scheduling: scheduling === false ? false : testSchedulingSettings(scheduling),
  };
}

/** The embedded broker as the tests run it, on loopback `port` (0: any; a fixed one to restart on it). */
export function testBroker(port: number): NonNullable<ServiceOptions["embeddedBroker"]> {
  return { ...BROKER_DEFAULTS, host: "127.0.0.1", port, maxPacketBytes: 1 << 20, refusedPublish: "drop" };
}
