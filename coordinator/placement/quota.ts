// Per-requester bounds on MQTT schedule requests (issue 12: one scheduler account could take all CPU of a
// cluster in 5 s). Pure: time is passed in, pods are passed in.
// - Rate: a token bucket per requester, `requestsPerMinute` a minute, bursts of up to a tenth of that
//   (at least 1). Every request that passed validation costs a token, repeats included.
// - Resources, like a ResourceQuota on requests.cpu / requests.memory: the pods a requester owns are the
//   cluster's non-terminated pods annotated `k3s-fleet.io/requested-by: <requester>` (set on every pod a
//   request creates); a request that would take the sum above the bound is refused.
// 0 turns a bound off. Refusals carry the reason the requester gets in its decision.
import { podResources } from "../scheduler/pod-requests.ts";
import type { PodObject } from "./inputs.ts";
import { isTerminal } from "./inputs.ts";

/** Annotation on pods created by a schedule request: who asked (the broker user, else the client id). */
export const REQUESTED_BY_ANNOTATION = "k3s-fleet.io/requested-by";

export interface QuotaLimits {
  /** Schedule requests a minute per requester; 0: unbounded. */
  requestsPerMinute: number;
  /** Sum of CPU requests (milli-cores) of a requester's pods; 0: unbounded. */
  cpuMillis: number;
  /** Sum of memory requests (bytes) of a requester's pods; 0: unbounded. */
  memoryBytes: number;
}

export interface RequestQuota {
  /** Spends a token of `requester`'s bucket; the refusal reason when none is left. */
  admit(requester: string, nowMs: number): string | undefined;
  /** Why `pod` (the manifest about to be created) would take `requester` over its resource bounds. */
  resourceProblem(requester: string, pod: PodObject, owned: Iterable<PodObject>): string | undefined;
}

/** Requesters whose buckets are remembered at most (the longest idle go first). */
const MAX_REQUESTERS = 10_000;

export function createRequestQuota(limits: QuotaLimits): RequestQuota {
  const perMs = limits.requestsPerMinute / 60_000;
  const burst = Math.max(1, Math.ceil(limits.requestsPerMinute / 10));
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    admit(requester, nowMs) {
      if (limits.requestsPerMinute <= 0) return undefined;
      const bucket = buckets.get(requester) ?? { tokens: burst, at: nowMs };
      bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, nowMs - bucket.at) * perMs);
      bucket.at = nowMs;
      buckets.delete(requester);
      buckets.set(requester, bucket);
      if (buckets.size > MAX_REQUESTERS) buckets.delete(buckets.keys().next().value as string);
      if (bucket.tokens < 1) {
        return `quota: more than ${limits.requestsPerMinute} schedule requests a minute from ${requester}; retry later`;
      }
      bucket.tokens -= 1;
      return undefined;
    },
    resourceProblem(requester, pod, owned) {
      if (limits.cpuMillis <= 0 && limits.memoryBytes <= 0) return undefined;
      const asked = podResources(pod);
      let cpu = 0n;
      let memory = 0n;
      for (const p of owned) {
        if (isTerminal(p) || requesterOf(p) !== requester) continue;
        const r = podResources(p);
        cpu += r.cpu;
        memory += r.memory;
      }
      if (limits.cpuMillis > 0 && cpu + asked.cpu > BigInt(limits.cpuMillis)) {
        return (
          `quota: ${requester}'s pods request ${cpu}m CPU; ${asked.cpu}m more would exceed its ` +
          `${limits.cpuMillis}m (scheduling.quota.cpu)`
        );
      }
      if (limits.memoryBytes > 0 && memory + asked.memory > BigInt(limits.memoryBytes)) {
        return (
          `quota: ${requester}'s pods request ${memory} bytes of memory; ${asked.memory} more would exceed ` +
          `its ${limits.memoryBytes} (scheduling.quota.memory)`
        );
      }
      return undefined;
    },
  };
}

/** Who asked for `pod` (REQUESTED_BY_ANNOTATION), if a request created it. */
export const requesterOf = (pod: PodObject): string | undefined =>
  (pod.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[
    REQUESTED_BY_ANNOTATION
  ];
