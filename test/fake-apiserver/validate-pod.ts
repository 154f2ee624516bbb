// Pod rules from pkg/apis/core/validation (ValidatePodCreate, ValidatePodUpdate, ValidatePodBinding) that
// the OpenAPI schema cannot express. Only the rules a scheduler's pods exercise are here; see README.
import { canonicalJson } from "./canonical-json.ts";
import { duplicate, type FieldError, forbidden, invalid, notSupported, required } from "./field-errors.ts";
import { internalUnknown } from "./status.ts";
import { isObject, type JsonObject, type KubeObject } from "./types.ts";
import { dnsLabelErrors, labelErrors } from "./validate.ts";

const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

function containerErrors(containers: unknown, path: string, names: Set<string>): FieldError[] {
  if (!Array.isArray(containers)) return [];
  const errors: FieldError[] = [];
  containers.forEach((raw, i) => {
    const c: JsonObject = isObject(raw) ? raw : {};
    const at = `${path}[${i}]`;
    const name = typeof c.name === "string" ? c.name : "";
    if (!name) errors.push(required(`${at}.name`));
    else {
      errors.push(...dnsLabelErrors(`${at}.name`, name));
      if (names.has(name)) errors.push(duplicate(`${at}.name`, name));
      names.add(name);
    }
    if (!c.image) errors.push(required(`${at}.image`));
  });
  return errors;
}

/** Toleration rules (validateTolerations). */
export function tolerationErrors(tolerations: unknown, path: string): FieldError[] {
  if (!Array.isArray(tolerations)) return [];
  const errors: FieldError[] = [];
  tolerations.forEach((raw, i) => {
    const t: JsonObject = isObject(raw) ? raw : {};
    const at = `${path}[${i}]`;
    const operator = t.operator ?? "Equal";
    if (operator !== "Equal" && operator !== "Exists") {
      errors.push(notSupported(`${at}.operator`, operator, ["Equal", "Exists"]));
    }
    if (operator === "Exists" && t.value) {
      errors.push(invalid(`${at}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
    }
    if (!t.key && operator !== "Exists") {
      errors.push(
        invalid(
          `${at}.operator`,
          operator,
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (t.effect && !TAINT_EFFECTS.includes(String(t.effect))) {
      errors.push(notSupported(`${at}.effect`, t.effect, TAINT_EFFECTS));
    }
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
      errors.push(
        invalid(`${at}.effect`, t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set"),
      );
    }
  });
  return errors;
}

/** ValidatePodSpec, the parts a scheduler's pods exercise. */
export function podSpecErrors(pod: KubeObject): FieldError[] {
  const spec: JsonObject = isObject(pod.spec) ? pod.spec : {};
  const errors: FieldError[] = [];
  if (!Array.isArray(spec.containers) || spec.containers.length === 0)
    errors.push(required("spec.containers"));
  const names = new Set<string>();
  errors.push(...containerErrors(spec.containers, "spec.containers", names));
  errors.push(...containerErrors(spec.initContainers, "spec.initContainers", names));
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(String(spec.restartPolicy))) {
    errors.push(notSupported("spec.restartPolicy", spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(String(spec.dnsPolicy))) {
    errors.push(notSupported("spec.dnsPolicy", spec.dnsPolicy, DNS_POLICIES));
  }
  errors.push(...labelErrors("spec.nodeSelector", spec.nodeSelector));
  errors.push(...tolerationErrors(spec.tolerations, "spec.tolerations"));
  return errors;
}

const UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** The spec with the fields a pod update may change blanked out (ValidatePodUpdate's mungedPodSpec). */
function immutablePart(spec: unknown): string {
  const s: JsonObject = isObject(spec) ? structuredClone(spec) : {};
  for (const list of ["containers", "initContainers"]) {
    if (Array.isArray(s[list]))
      s[list] = (s[list] as unknown[]).map((c) => (isObject(c) ? { ...c, image: "" } : c));
  }
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  return canonicalJson(s);
}

/** ValidatePodUpdate: the spec is immutable apart from images, deadlines and added tolerations. */
export function podUpdateErrors(updated: KubeObject, old: KubeObject): FieldError[] {
  if (immutablePart(updated.spec) !== immutablePart(old.spec)) return [forbidden("spec", UPDATE_FORBIDDEN)];
  const before = isObject(old.spec) && Array.isArray(old.spec.tolerations) ? old.spec.tolerations : [];
  const after =
    isObject(updated.spec) && Array.isArray(updated.spec.tolerations) ? updated.spec.tolerations : [];
  const kept = before.every((t) => after.some((u) => canonicalJson(u) === canonicalJson(t)));
  return kept
    ? []
    : [forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")];
}

/**
 * ValidatePodBinding. Upstream BindingREST.Create returns these as a plain aggregate error, not a
 * StatusError, so the client sees a 500 with no reason: mirrored here.
 */
export function checkBinding(binding: JsonObject): void {
  const target: JsonObject = isObject(binding.target) ? binding.target : {};
  const messages: string[] = [];
  if (target.kind && target.kind !== "Node") {
    messages.push(
      `target.kind: Unsupported value: ${JSON.stringify(target.kind)}: supported values: "Node", "<empty>"`,
    );
  }
  if (!target.name) messages.push("target.name: Required value");
  if (messages.length === 1) throw internalUnknown(messages[0] ?? "");
  if (messages.length > 1) throw internalUnknown(`[${messages.join(", ")}]`);
}
