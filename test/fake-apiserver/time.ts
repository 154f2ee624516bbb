// metav1.Time marshals with second precision ("2025-01-02T03:04:05Z"); metav1.MicroTime (Event eventTime,
// series.lastObservedTime) with microseconds. Clients such as client-node send Dates back with
// milliseconds ("...:05.000Z"); the apiserver's decoder normalizes them, and so does the fake.
import { isObject } from "./types.ts";

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const MICRO_TIME_FIELDS = new Set(["eventTime", "lastObservedTime", "renewTime", "acquireTime"]);
/** metav1.Time fields of the kinds served (Pod, Node, Namespace, Event, Binding). */
const TIME_FIELDS = new Set([
  "creationTimestamp",
  "deletionTimestamp",
  "lastTransitionTime",
  "lastHeartbeatTime",
  "lastProbeTime",
  "lastUpdateTime",
  "startTime",
  "startedAt",
  "finishedAt",
  "timeAdded",
  "firstTimestamp",
  "lastTimestamp",
  "deprecatedFirstTimestamp",
  "deprecatedLastTimestamp",
]);

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** RFC 3339 with microseconds, as metav1.MicroTime marshals. */
export function microTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000Z`;
}

function normalize(value: string, micro: boolean): string {
  const m = RFC3339.exec(value);
  if (!m) return value;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  if (!micro) return timestamp(date);
  const fraction = (m[2] ?? ".").slice(1).padEnd(6, "0").slice(0, 6);
  return m[3] === "Z" ? `${m[1]}.${fraction}Z` : microTimestamp(date);
}

/** Rewrites the Time/MicroTime fields in `value` (in place) to the precision the apiserver stores. */
export function normalizeTimes(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (MICRO_TIME_FIELDS.has(key)) return normalize(value, true);
    return TIME_FIELDS.has(key) ? normalize(value, false) : value;
  }
  if (key === "labels" || key === "annotations") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normalizeTimes(value[i], key);
  } else if (isObject(value)) {
    for (const k of Object.keys(value)) value[k] = normalizeTimes(value[k], k);
  }
  return value;
}
