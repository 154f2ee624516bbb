// The /metrics text, collected at most once per `maxAgeMs`: at 20,000 nodes one collection takes the event
// loop for a while, and a client hammering /metrics must not take it again per request (issue 12). Requests
// while a collection runs share it.
import type { Registry } from "prom-client";

export interface ExpositionCache {
  text(): Promise<string>;
}

export function createExpositionCache(
  registry: Registry,
  maxAgeMs: number,
  now: () => number = () => performance.now(),
): ExpositionCache {
  let cached: { text: string; at: number } | undefined;
  let inFlight: Promise<string> | undefined;
  return {
    text() {
      if (cached !== undefined && now() - cached.at < maxAgeMs) return Promise.resolve(cached.text);
      inFlight ??= registry.metrics().then(
        (text) => {
          cached = { text, at: now() };
          inFlight = undefined;
          return text;
        },
        (error: unknown) => {
          inFlight = undefined;
          throw error;
        },
      );
      return inFlight;
    },
  };
}
