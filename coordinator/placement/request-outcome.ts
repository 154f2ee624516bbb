// How one schedule request ended (request-place.ts): the reply, and what the store keeps of it. Pure: each
// builder takes the request and the time, and returns the outcome.
import type { ScheduleDecision } from "../../proto/index.ts";
import type { Decision } from "../scheduler/index.ts";
import { alreadyBoundDecision, errorDecision, rejectedDecision } from "./decision.ts";
import type { PodObject } from "./inputs.ts";

/** How a request ended: the reply, and what the store keeps of it. */
export interface Outcome {
  decision: ScheduleDecision;
  /** finish: final, answer every repeat with it; forget: nothing created; keep: a pod may exist, check on repeat. */
  persist: "finish" | "forget" | "keep";
  reasons: string[];
  /** A pod of ours left unbound. */
  left?: PodObject;
  /** The engine decision the reply was made from (the record keeps its runner-up's scores). */
  engine?: Decision;
}

/** The request being placed: its id and pod, and the clock. */
export interface Attempt {
  requestId: string;
  namespace: string;
  podName: string;
  /** namespace/podName, for messages. */
  key: string;
  now: () => number;
}

/** A step's result: the request ended (`done`), or the next step goes on with `next`. */
export type Step<T> = { done: Outcome } | { next: T };

/** The request ended in an error; `persist` says whether a pod may exist. */
export function failed(
  a: Attempt,
  message: string,
  persist: Outcome["persist"],
  left?: PodObject,
  podUid = "",
): Outcome {
  return {
    decision: errorDecision(a.requestId, message, a.now(), podUid),
    persist,
    reasons: [message],
    ...(left ? { left } : {}),
  };
}

/** The pod is bound already (an earlier attempt, or someone else's bind won): the request is done. */
export function boundAlready(a: Attempt, pod: PodObject, planned: ScheduleDecision | undefined): Outcome {
  return {
    decision: alreadyBoundDecision(planned, {
      requestId: a.requestId,
      now: a.now(),
      node: pod.spec?.nodeName ?? "",
      podUid: pod.metadata?.uid ?? "",
    }),
    persist: "finish",
    reasons: [],
  };
}

/** Refused for good; nothing of ours exists. */
export function rejected(a: Attempt, reason: string): Outcome {
  return { decision: rejectedDecision(a.requestId, reason, a.now()), persist: "forget", reasons: [reason] };
}

/** A pod of that name exists and is not this request's. */
export function notOurs(a: Attempt): Outcome {
  return rejected(
    a,
    `pod ${a.key} already exists and was not created by request ${JSON.stringify(a.requestId)}`,
  );
}
