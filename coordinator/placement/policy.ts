// What a ScheduleRequest may ask for. Pure: the request and the settings in, a valid request or every
// reason to refuse it out. Safe by default: one namespace, Docker Official Images, bounded resources,
// replies only under {root}/schedule/reply/, and nothing in the pod spec but what is listed here.
import type { ScheduleRequest } from "../../proto/index.ts";
import { nodeIdProblem, timestampMs } from "../../proto/index.ts";
import { parseQuantity, type Toleration, toMilli, toUnits } from "../scheduler/index.ts";
import { imageAllowed, parseImage } from "./image.ts";
import type { ResolvedSettings } from "./settings.ts";

/** A request that passed every check, with the namespace filled in. Empty limits: none set. */
export interface ValidRequest {
  readonly requestId: string;
  readonly replyTo: string;
  readonly podName: string;
  readonly namespace: string;
  readonly image: string;
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly labels: Readonly<Record<string, string>>;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Toleration[];
  readonly dryRun: boolean;
}

export type CheckResult = { ok: true; request: ValidRequest } | { ok: false; reason: string };

export const MAX_REQUEST_ID_LENGTH = 128;
export const MAX_MAP_ENTRIES = 32;
export const MAX_TOLERATIONS = 16;
/**
 * Taints Kubernetes itself sets (a cordon: node.kubernetes.io/unschedulable; not-ready, unreachable, memory,
 * disk and PID pressure; the control plane's node-role): a request may not tolerate them, or its pod would
 * go where the cluster's operators and controllers have said no pod should.
 */
export const RESERVED_TAINT_PREFIXES: readonly string[] = ["node.kubernetes.io/", "node-role.kubernetes.io/"];
/** Label keys under these prefixes are set by the coordinator, never by a request. */
export const RESERVED_LABEL_PREFIXES: readonly string[] = ["k3s-fleet.io/", "app.kubernetes.io/managed-by"];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
const CONTROL = /[\u0000-\u001f\u007f]/;
const EFFECTS: ReadonlySet<string> = new Set(["", "NoSchedule", "PreferNoSchedule", "NoExecute"]);

/** Why `replyTo` is not a topic the coordinator may publish to, or undefined when it is. */
export function replyTopicProblem(root: string, replyTo: string): string | undefined {
  const prefix = `${root}/schedule/reply/`;
  if (replyTo === "") return "reply_to is empty";
  if (!replyTo.startsWith(prefix)) return `reply_to must be a topic under ${prefix}`;
  const level = replyTo.slice(prefix.length);
  const problem = nodeIdProblem(level);
  return problem === undefined ? undefined : `reply_to: ${problem.replace("node id", "client id")}`;
}

export function requestIdProblem(id: string): string | undefined {
  if (id === "") return "request_id is empty";
  if (id.length > MAX_REQUEST_ID_LENGTH)
    return `request_id is longer than ${MAX_REQUEST_ID_LENGTH} characters`;
  if (CONTROL.test(id)) return "request_id contains a control character";
  return undefined;
}

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? "" : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0 && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `key ${JSON.stringify(key)} has an invalid prefix`;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name))
    return `key ${JSON.stringify(key)} is not a valid label key`;
  return undefined;
}

function labelValueProblem(key: string, value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value))
    return `value ${JSON.stringify(value)} of ${JSON.stringify(key)} is not a valid label value`;
  return undefined;
}

function checkMap(
  field: string,
  map: Readonly<Record<string, string>>,
  problems: string[],
  reserved: boolean,
): void {
  const entries = Object.entries(map);
  if (entries.length > MAX_MAP_ENTRIES) problems.push(`${field} has more than ${MAX_MAP_ENTRIES} entries`);
  for (const [key, value] of entries.slice(0, MAX_MAP_ENTRIES)) {
    const p = labelKeyProblem(key) ?? labelValueProblem(key, value);
    if (p) problems.push(`${field}: ${p}`);
    else if (reserved && RESERVED_LABEL_PREFIXES.some((r) => key.startsWith(r)))
      problems.push(`${field}: ${JSON.stringify(key)} is reserved for the coordinator`);
  }
}

function checkTolerations(req: ScheduleRequest, problems: string[]): Toleration[] {
  if (req.tolerations.length > MAX_TOLERATIONS) problems.push(`more than ${MAX_TOLERATIONS} tolerations`);
  return req.tolerations.slice(0, MAX_TOLERATIONS).map((t, i) => {
    const where = `tolerations[${i}]`;
    const operator = t.operator === "" ? "Equal" : t.operator;
    if (t.key === "")
      problems.push(`${where}: a toleration must name a taint key (tolerating every taint is not allowed)`);
    else {
      const p = labelKeyProblem(t.key);
      if (p) problems.push(`${where}: ${p}`);
      else if (RESERVED_TAINT_PREFIXES.some((prefix) => t.key.startsWith(prefix)))
        problems.push(
          `${where}: ${t.key} is a taint Kubernetes sets (a cordon, a node condition): not tolerable`,
        );
    }
    if (operator !== "Equal" && operator !== "Exists")
      problems.push(`${where}: operator must be Equal or Exists, got ${JSON.stringify(t.operator)}`);
    if (operator === "Exists" && t.value !== "")
      problems.push(`${where}: value must be empty when operator is Exists`);
    if (operator === "Equal" && labelValueProblem(t.key, t.value))
      problems.push(`${where}: ${labelValueProblem(t.key, t.value)}`);
    if (!EFFECTS.has(t.effect))
      problems.push(`${where}: effect must be NoSchedule, PreferNoSchedule, NoExecute or empty`);
    return {
      key: t.key,
      operator,
      ...(t.value === "" ? {} : { value: t.value }),
      ...(t.effect === "" ? {} : { effect: t.effect }),
    };
  });
}

interface Amount {
  readonly text: string;
  readonly value: bigint;
}

function amount(field: string, text: string, unit: typeof toMilli, problems: string[]): Amount | undefined {
  try {
    const value = unit(parseQuantity(text));
    if (value < 0n) {
      problems.push(`${field} ${JSON.stringify(text)} is negative`);
      return undefined;
    }
    return { text, value };
  } catch {
    problems.push(`${field} ${JSON.stringify(text)} is not a Kubernetes quantity (e.g. 500m, 1, 512Mi, 2Gi)`);
    return undefined;
  }
}

/**
 * Request and limit of one resource: the request is required, the limit optional (none is set when it is
 * absent, as kubectl would: the namespace's LimitRange applies), both within the maximum, request ≤ limit.
 */
function checkResource(
  resource: "cpu" | "memory",
  requestText: string,
  limitText: string,
  max: { text: string; value: bigint },
  unit: typeof toMilli,
  problems: string[],
): { request: string; limit: string } {
  const requestField = `${resource}_request`;
  const limitField = `${resource}_limit`;
  if (requestText === "") {
    problems.push(`${requestField} is required`);
    return { request: "", limit: "" };
  }
  const request = amount(requestField, requestText, unit, problems);
  const limit = limitText === "" ? undefined : amount(limitField, limitText, unit, problems);
  if (request && request.value > max.value)
    problems.push(`${requestField} ${request.text} exceeds the maximum ${max.text}`);
  if (limit && limit.value > max.value)
    problems.push(`${limitField} ${limit.text} exceeds the maximum ${max.text}`);
  if (request && limit && request.value > limit.value)
    problems.push(`${requestField} ${request.text} is greater than ${limitField} ${limit.text}`);
  return { request: requestText, limit: limitText };
}

/** Why a request is too late to act on: its deadline has passed (`now` in epoch milliseconds). */
export function expiredProblem(req: ScheduleRequest, now: number): string | undefined {
  const deadline = timestampMs(req.deadline);
  if (deadline === undefined || now <= deadline) return undefined;
  return `request expired at ${new Date(deadline).toISOString()} (received ${((now - deadline) / 1000).toFixed(1)} s later)`;
}

/**
 * Validates a decoded request against the policy. `reply_to` is checked separately
 * (replyTopicProblem): a request with a bad reply topic gets no reply at all.
 */
export function checkRequest(req: ScheduleRequest, settings: ResolvedSettings): CheckResult {
  const problems: string[] = [];
  const idProblem = requestIdProblem(req.requestId);
  if (idProblem) problems.push(idProblem);
  if (req.podName === "") problems.push("pod_name is required");
  else if (req.podName.length > 253 || !DNS_SUBDOMAIN.test(req.podName))
    problems.push(
      `pod_name ${JSON.stringify(req.podName)} is not a valid pod name (lowercase DNS subdomain)`,
    );
  const namespace = req.namespace === "" ? settings.defaultNamespace : req.namespace;
  if (!DNS_LABEL.test(namespace) || namespace.length > 63)
    problems.push(`namespace ${JSON.stringify(namespace)} is not a valid namespace name`);
  else if (!settings.namespaces.has(namespace))
    problems.push(
      `namespace ${JSON.stringify(namespace)} is not allowed (allowed: ${[...settings.namespaces].join(", ")})`,
    );
  if (req.image === "") problems.push("image is required");
  else {
    const ref = parseImage(req.image);
    if (typeof ref === "string") problems.push(ref);
    else if (!imageAllowed(ref, settings.allowedRegistries))
      problems.push(
        `image ${JSON.stringify(req.image)} (${ref.name}) is not from an allowed registry (allowed: ${
          settings.allowedRegistries.length === 0 ? "none" : settings.allowedRegistries.join(", ")
        })`,
      );
  }
  const cpu = checkResource(
    "cpu",
    req.cpuRequest,
    req.cpuLimit,
    { text: settings.maxCpu, value: settings.maxCpuMilli },
    toMilli,
    problems,
  );
  const memory = checkResource(
    "memory",
    req.memoryRequest,
    req.memoryLimit,
    { text: settings.maxMemory, value: settings.maxMemoryBytes },
    toUnits,
    problems,
  );
  checkMap("labels", req.labels, problems, true);
  checkMap("node_selector", req.nodeSelector, problems, false);
  const tolerations = checkTolerations(req, problems);
  if (problems.length > 0) return { ok: false, reason: problems.join("; ") };
  return {
    ok: true,
    request: {
      requestId: req.requestId,
      replyTo: req.replyTo,
      podName: req.podName,
      namespace,
      image: req.image,
      requests: { cpu: cpu.request, memory: memory.request },
      limits: { cpu: cpu.limit, memory: memory.limit },
      labels: { ...req.labels },
      nodeSelector: { ...req.nodeSelector },
      tolerations,
      dryRun: req.dryRun,
    },
  };
}
