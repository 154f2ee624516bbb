// Schedule requests over MQTT: decode, check against the policy, decide on the shared queue, and —
// unless dry-run or standalone — create the pod with our schedulerName and bind it to the chosen node.
// The decision goes to the request's reply topic. Request ids are idempotency keys kept in the store:
// a repeat (QoS 1 redelivery, a client retry, a coordinator restart in between) gets the same decision
// and never a second pod. A request whose reply topic is not allowed gets no reply at all.
// Bounds (quota.ts): requests a minute and CPU/memory of the pods created, per requester; at most
// `maxQueuedRequests` waiting for a decision. A request over one is refused with the reason in its reply.
import { decode, type ScheduleDecision, type ScheduleRequest } from "../../proto/index.ts";
import type { Decision } from "../scheduler/index.ts";
import type { SchedulingCore } from "./core.ts";
import { errorDecision, rejectedDecision, toScheduleDecision } from "./decision.ts";
import { salvageEnvelope } from "./envelope.ts";
import type { PodObject } from "./inputs.ts";
import type { KubeActions } from "./kube.ts";
import { type PodManifest, podManifest, requestIdOf } from "./manifest.ts";
import { decide as decideOnSnapshot, splitReasons } from "./place.ts";
import {
  type CheckResult,
  checkRequest,
  expiredProblem,
  replyTopicProblem,
  type ValidRequest,
} from "./policy.ts";
import { createRequestQuota, requesterOf as podRequester, REQUESTED_BY_ANNOTATION } from "./quota.ts";
import { answerResult, decisionRecord } from "./record.ts";
import { createPlacer, type Outcome } from "./request-place.ts";
import type { ResolvedSettings } from "./settings.ts";

/** Request policy as injected functions; the defaults are the safe ones in policy.ts and manifest.ts. */
export interface SchedulingPolicy {
  checkRequest(request: ScheduleRequest, settings: ResolvedSettings): CheckResult;
  podFor(request: ValidRequest, schedulerName: string): PodManifest;
}

export const DEFAULT_POLICY: SchedulingPolicy = Object.freeze({ checkRequest, podFor: podManifest });

export interface RequestHandlerOptions {
  core: SchedulingCore;
  root: string;
  policy: SchedulingPolicy;
  /** Undefined: standalone, every decision advisory and nothing created. */
  cluster?: {
    kube: KubeActions;
    /** namespace/name of pods being created or bound by a request right now. */
    inFlight: Set<string>;
    /** A pod of ours this path left unbound: the pending-pod scheduler takes it over. */
    handOff(pod: PodObject): void;
    /** The informers have listed nodes and pods: a decision now sees the whole cluster. */
    ready(): boolean;
    /** The cluster's pods now (the informer's cache), for the per-requester resource quota. */
    pods?(): readonly PodObject[];
  };
  /**
   * Who sent a request, for quotas and the `k3s-fleet.io/requested-by` annotation: the embedded broker's
   * user for the request's client id; by default the client id the request names.
   */
  requester?(request: ScheduleRequest): string;
  publish(topic: string, decision: ScheduleDecision): Promise<void>;
}

export interface RequestHandler {
  /** Handles one payload from {root}/schedule/request; never rejects. */
  handle(payload: Uint8Array): Promise<void>;
  /** Repeats answered from the store. */
  readonly repeats: number;
}

export function createRequestHandler(options: RequestHandlerOptions): RequestHandler {
  const { core, root, policy, cluster } = options;
  const { settings, queue, log, now } = core;
  let repeats = 0;
  const placer = cluster === undefined ? undefined : createPlacer(core, cluster.kube);
  const quota = createRequestQuota(settings.quota);
  /** The broker user a request came from, when the broker can tell (the embedded broker with a users file). */
  const verifiedRequester = (request: ScheduleRequest) => options.requester?.(request) || undefined;

  async function reply(topic: string, decision: ScheduleDecision): Promise<void> {
    try {
      await options.publish(topic, decision);
    } catch (err) {
      core.warnLimited(
        "reply",
        { err, topic, requestId: decision.requestId },
        "cannot publish schedule decision",
      );
    }
  }

  function record(
    valid: { requestId: string; pod: string; dryRun: boolean },
    decision: ScheduleDecision,
    reasons: string[],
    receivedAt: number,
    engine?: Decision,
  ): void {
    const from = {
      ...valid,
      source: "mqtt" as const,
      advisory: decision.advisory,
      at: receivedAt,
      since: receivedAt,
    };
    core.record(decisionRecord(from, answerResult(decision, reasons, engine), now()));
  }

  async function refuse(
    requestId: string,
    replyTo: string,
    reason: string,
    receivedAt: number,
    pod = "",
  ): Promise<void> {
    const decision = rejectedDecision(requestId, reason, now());
    record({ requestId, pod, dryRun: false }, decision, [reason], receivedAt);
    const problem = replyTopicProblem(root, replyTo);
    if (problem !== undefined) {
      core.warnLimited(
        `refused:${problem}`,
        { requestId, replyTo, reason },
        `schedule request refused without reply: ${problem}`,
      );
      return;
    }
    log.info({ requestId, reason }, "schedule request refused");
    await reply(replyTo, decision);
  }

  async function decide(
    valid: ValidRequest,
    receivedAt: number,
    requester: string,
    verified: boolean,
  ): Promise<void> {
    const { requestId, namespace, podName } = valid;
    const key = `${namespace}/${podName}`;
    const stored = core.storedRequest(requestId);
    // Request ids are per requester where the broker says who a requester is: another user's repeat does not
    // get that user's decision. The store says who asked first; for a request stored before it did, its
    // pod's annotation says it. A client id alone proves nothing (any client may name any, and
    // `k3s-fleet schedule` takes a new one per run), so without a broker user a repeat is a retry.
    const recorded = verified ? core.requestOwner(requestId) : undefined;
    const owner = !verified
      ? undefined
      : (recorded ??
        (stored === undefined
          ? undefined
          : ownerOf(cluster?.pods?.() ?? [], stored.namespace, stored.podName, requestId)));
    if (owner !== undefined && owner !== requester) {
      const reason = `request id ${requestId} was used by another requester; choose another request id`;
      const decision = rejectedDecision(requestId, reason, now());
      record({ requestId, pod: key, dryRun: valid.dryRun }, decision, [reason], receivedAt);
      log.info({ requestId, requester }, "schedule request refused: request id of another requester");
      await reply(valid.replyTo, decision);
      return;
    }
    if (verified && recorded === undefined) core.ownRequest(requestId, owner ?? requester);
    if (stored?.state === "done" && stored.decision !== undefined) {
      repeats++;
      log.debug({ requestId }, "repeated schedule request: same decision");
      await reply(valid.replyTo, stored.decision);
      return;
    }
    const made = policy.podFor(valid, settings.schedulerName);
    const manifest: PodManifest = {
      ...made,
      metadata: {
        ...made.metadata,
        annotations: { ...made.metadata.annotations, [REQUESTED_BY_ANNOTATION]: requester },
      },
    };
    const meta = { requestId, pod: key, dryRun: valid.dryRun };
    if (cluster !== undefined && !cluster.ready()) {
      // Deciding on a half-listed cluster would answer "no nodes" for good: ask for a retry instead.
      const decision = errorDecision(
        requestId,
        "the coordinator has not listed the cluster yet; retry shortly",
        now(),
      );
      record(meta, decision, [decision.message], receivedAt);
      await reply(valid.replyTo, decision);
      return;
    }
    if (cluster === undefined || valid.dryRun) {
      const at = now();
      let decision: ScheduleDecision;
      let reasons: string[] = [];
      let engine: Decision | undefined;
      try {
        engine = decideOnSnapshot(core, manifest, at);
        decision = toScheduleDecision(engine, { requestId, now: now(), advisory: cluster === undefined });
        reasons = engine.status === "unschedulable" ? splitReasons(engine) : [];
      } catch (err) {
        decision = errorDecision(requestId, `cannot schedule: ${(err as Error).message}`, now());
        reasons = [decision.message];
      }
      record(meta, decision, reasons, receivedAt, engine);
      await reply(valid.replyTo, decision);
      return;
    }

    const overQuota = quota.resourceProblem(requester, manifest, cluster.pods?.() ?? []);
    if (overQuota !== undefined) {
      const decision = rejectedDecision(requestId, overQuota, now());
      record(meta, decision, [overQuota], receivedAt);
      log.info({ requestId, requester, reason: overQuota }, "schedule request refused");
      await reply(valid.replyTo, decision);
      return;
    }
    cluster.inFlight.add(key);
    let outcome: Outcome;
    try {
      outcome = await (placer as NonNullable<typeof placer>).place(valid, manifest, stored);
    } catch (err) {
      outcome = {
        decision: errorDecision(requestId, `internal error: ${(err as Error).message}`, now()),
        persist: "keep",
        reasons: ["internal error"],
      };
      log.error({ err, requestId }, "schedule request failed");
    } finally {
      cluster.inFlight.delete(key);
    }
    core.requestSettled(requestId, namespace, podName, outcome.persist, outcome.decision);
    if (outcome.left !== undefined) cluster.handOff(outcome.left);
    record(meta, outcome.decision, outcome.reasons, receivedAt, outcome.engine);
    await reply(valid.replyTo, outcome.decision);
  }

  return {
    async handle(payload) {
      const receivedAt = now();
      try {
        const decoded = decode("scheduleRequest", payload, settings.maxRequestBytes);
        if (!decoded.ok) {
          const envelope = salvageEnvelope(payload.subarray(0, settings.maxRequestBytes));
          const reason =
            decoded.reason === "oversized"
              ? `payload of ${payload.byteLength} bytes is larger than the limit of ${settings.maxRequestBytes}`
              : `payload is not a ScheduleRequest (${decoded.detail})`;
          await refuse(envelope.requestId, envelope.replyTo, reason, receivedAt);
          return;
        }
        const request = decoded.message;
        // The contract's default reply topic: {root}/schedule/reply/{client_id}.
        if (request.replyTo === "" && request.clientId !== "") {
          request.replyTo = `${root}/schedule/reply/${request.clientId}`;
        }
        const replyProblem = replyTopicProblem(root, request.replyTo);
        if (replyProblem !== undefined) {
          await refuse(request.requestId, request.replyTo, replyProblem, receivedAt);
          return;
        }
        const expired = expiredProblem(request, now());
        if (expired !== undefined) {
          await refuse(request.requestId, request.replyTo, expired, receivedAt);
          return;
        }
        const checked = policy.checkRequest(request, settings);
        if (!checked.ok) {
          const pod = request.podName
            ? `${request.namespace || settings.defaultNamespace}/${request.podName}`
            : "";
          await refuse(request.requestId, request.replyTo, checked.reason, receivedAt, pod);
          return;
        }
        const verified = verifiedRequester(request);
        // Behind another broker the quota counts by the client id the request names (documented).
        const requester = verified ?? (request.clientId || "(no client id)");
        const overRate = quota.admit(requester, now());
        if (overRate !== undefined) {
          await refuse(request.requestId, request.replyTo, overRate, receivedAt);
          return;
        }
        const decided = queue.offer(() =>
          decide(checked.request, receivedAt, requester, verified !== undefined),
        );
        if (decided === undefined) {
          const full = `the decision queue is full (${queue.maxQueued} requests waiting); retry later`;
          await refuse(request.requestId, request.replyTo, full, receivedAt);
          return;
        }
        await decided;
      } catch (err) {
        log.error({ err }, "schedule request handling failed");
      }
    },
    get repeats() {
      return repeats;
    },
  };
}

/** Who asked for the pod `namespace/name` that request `requestId` created, if the cluster still has it. */
function ownerOf(
  pods: readonly PodObject[],
  namespace: string,
  name: string,
  requestId: string,
): string | undefined {
  const pod = pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
  if (pod === undefined) return undefined;
  const annotated = pod as { metadata?: { annotations?: Record<string, string> } };
  return requestIdOf(annotated) === requestId ? podRequester(pod) : undefined;
}
