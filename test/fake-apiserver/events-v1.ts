// Events live once in storage and are served by two APIs: core/v1 Event and events.k8s.io/v1 Event. The
// store keeps the core form; this file converts events.k8s.io/v1 objects to and from it
// (pkg/apis/events/v1/conversion.go) and holds ValidateEventCreate's rules for both versions.
import { type FieldError, invalid, required } from "./field-errors.ts";
import { isObject, type JsonObject, type KubeObject } from "./types.ts";
import { dnsSubdomainErrors } from "./validate.ts";

const RENAMED: Array<[v1: string, core: string]> = [
  ["regarding", "involvedObject"],
  ["note", "message"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
  ["reportingController", "reportingComponent"],
];

export function eventsV1ToCore(event: KubeObject): KubeObject {
  const out: KubeObject = { ...structuredClone(event), apiVersion: "v1", kind: "Event" };
  for (const [v1, core] of RENAMED) {
    delete out[v1];
    if (event[v1] !== undefined) out[core] = structuredClone(event[v1]);
  }
  out.involvedObject ??= {};
  return out;
}

export function coreToEventsV1(event: KubeObject): KubeObject {
  const out: KubeObject = { ...structuredClone(event), apiVersion: "events.k8s.io/v1", kind: "Event" };
  for (const [v1, core] of RENAMED) {
    delete out[core];
    if (event[core] !== undefined) out[v1] = structuredClone(event[core]);
  }
  return out;
}

const ALLOWED_NAMESPACELESS = ["", "default"];

/**
 * ValidateEventCreate on the core form. `strict` is true for events.k8s.io/v1 requests, which must use the
 * new fields (eventTime, reportingController, action, ...) and leave the deprecated ones unset.
 */
export function eventErrors(event: KubeObject, strict: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const involved: JsonObject = isObject(event.involvedObject) ? event.involvedObject : {};
  const namespace = event.metadata.namespace ?? "";
  const involvedNs = typeof involved.namespace === "string" ? involved.namespace : "";
  const controllerField = strict ? "reportingController" : "reportingComponent";
  if (!event.eventTime) {
    const mismatch = involvedNs ? involvedNs !== namespace : !ALLOWED_NAMESPACELESS.includes(namespace);
    if (mismatch)
      errors.push(invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
  } else {
    if (!involvedNs && namespace !== "default" && namespace !== "kube-system") {
      errors.push(invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
    }
    if (!event.reportingComponent) errors.push(required(controllerField));
    if (!event.reportingInstance) errors.push(required("reportingInstance"));
    if (!event.action) errors.push(required("action"));
    if (!event.reason) errors.push(required("reason"));
  }
  if (strict) {
    if (!event.eventTime) errors.push(required("eventTime"));
    if (event.type !== "Normal" && event.type !== "Warning") {
      errors.push(invalid("type", "", `has invalid value: ${String(event.type ?? "")}`));
    }
    for (const [field, name] of [
      ["firstTimestamp", "deprecatedFirstTimestamp"],
      ["lastTimestamp", "deprecatedLastTimestamp"],
      ["count", "deprecatedCount"],
    ] as const) {
      if (event[field]) errors.push(invalid(name, "", "needs to be unset"));
    }
    const source: JsonObject = isObject(event.source) ? event.source : {};
    if (source.component || source.host) errors.push(invalid("deprecatedSource", "", "needs to be unset"));
  }
  errors.push(...dnsSubdomainErrors("namespace", namespace));
  return errors;
}
