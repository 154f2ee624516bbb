// Object validation in two layers, as the apiserver does it:
//  1. decoding against the Kubernetes OpenAPI schemas (kubernetes-models' validate()): a wrong type or a
//     malformed quantity cannot even be decoded upstream, so it is a 400 "cannot be handled as a Pod";
//     a missing required property is reported as a 422 field error, like the Go validation would;
//  2. the Go validation rules the schema cannot express (names, labels, per-kind rules) → 422 Invalid.
import { Event as EventsV1Event } from "kubernetes-models/events.k8s.io/v1";
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1";
import {
  Binding,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
} from "kubernetes-models/v1";
import { type FieldError, invalid, required } from "./field-errors.ts";
import { ApiError, failure } from "./status.ts";
import { isObject, type KubeObject } from "./types.ts";

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  "v1/Pod": Pod as unknown as ModelClass,
  "v1/Node": Node as unknown as ModelClass,
  "v1/Namespace": Namespace as unknown as ModelClass,
  "v1/Event": Event as unknown as ModelClass,
  "v1/Binding": Binding as unknown as ModelClass,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim as unknown as ModelClass,
  "v1/PersistentVolume": PersistentVolume as unknown as ModelClass,
  "storage.k8s.io/v1/StorageClass": StorageClass as unknown as ModelClass,
  "events.k8s.io/v1/Event": EventsV1Event as unknown as ModelClass,
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "/spec/containers/0/image" → "spec.containers[0].image". */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split("/").filter(Boolean);
  if (child) parts.push(child);
  let out = "";
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

/**
 * Schema check. Returns the "Required value" field errors; throws a 400 BadRequest for anything that
 * would fail to decode upstream (wrong JSON type, malformed quantity or date).
 */
export function schemaErrors(apiVersion: string, kind: string, obj: KubeObject): FieldError[] {
  const Model = MODELS[`${apiVersion}/${kind}`];
  if (!Model) return [];
  try {
    new Model(structuredClone({ ...obj, apiVersion, kind }) as never).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw err;
    const missing = errors.filter((e) => e.keyword === "required");
    const undecodable = errors.filter((e) => e.keyword !== "required");
    if (undecodable.length > 0) throw decodeError(apiVersion, kind, undecodable);
    return missing.map((e) => required(fieldPath(e.instancePath, String(e.params.missingProperty)), ""));
  }
}

function decodeError(apiVersion: string, kind: string, errors: AjvError[]): ApiError {
  const version = apiVersion.split("/").pop() ?? apiVersion;
  const quantity = errors.find((e) => e.keyword === "format" && e.params.format === "quantity");
  const typed = errors.find((e) => e.keyword === "type");
  const first = quantity ?? typed ?? errors[0];
  let why = `${fieldPath(first?.instancePath ?? "")} ${first?.message ?? "is invalid"}`;
  if (quantity)
    why = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  else if (typed) {
    why = `json: cannot unmarshal into Go struct field ${kind}.${fieldPath(typed.instancePath)} of type ${String(typed.params.type)}`;
  }
  return new ApiError(
    failure(400, "BadRequest", `${kind} in version "${version}" cannot be handled as a ${kind}: ${why}`),
  );
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** validation.IsDNS1123Subdomain as field errors. */
export function dnsSubdomainErrors(field: string, value: string): FieldError[] {
  const errors: FieldError[] = [];
  if (value.length > 253) errors.push(invalid(field, value, "must be no more than 253 characters"));
  if (!DNS1123_SUBDOMAIN.test(value)) errors.push(invalid(field, value, SUBDOMAIN_MSG));
  return errors;
}

/** validation.IsDNS1123Label as field errors. */
export function dnsLabelErrors(field: string, value: string): FieldError[] {
  const errors: FieldError[] = [];
  if (value.length > 63) errors.push(invalid(field, value, "must be no more than 63 characters"));
  if (!DNS1123_LABEL.test(value)) errors.push(invalid(field, value, LABEL_MSG));
  return errors;
}

/** ValidateLabels: qualified-name keys, label values. */
export function labelErrors(field: string, labels: unknown): FieldError[] {
  if (!isObject(labels)) return [];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf("/");
    const prefix = slash >= 0 ? key.slice(0, slash) : "";
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if (slash >= 0 && (!prefix || !DNS1123_SUBDOMAIN.test(prefix))) {
      errors.push(invalid(field, key, `prefix part ${SUBDOMAIN_MSG}`));
    }
    if (!NAME_PART.test(name) || name.length > 63) errors.push(invalid(field, key, NAME_PART_MSG));
    const text = String(value);
    if (!LABEL_VALUE.test(text) || text.length > 63) errors.push(invalid(field, text, LABEL_VALUE_MSG));
  }
  return errors;
}

export type NameRule = "subdomain" | "label";

/** ValidateObjectMeta: name (or generateName) present and well-formed, labels well-formed. */
export function metadataErrors(obj: KubeObject, nameRule: NameRule): FieldError[] {
  const meta = obj.metadata;
  const errors: FieldError[] = [];
  if (!meta.name) {
    errors.push(required("metadata.name", "name or generateName is required"));
  } else {
    errors.push(...(nameRule === "label" ? dnsLabelErrors : dnsSubdomainErrors)("metadata.name", meta.name));
  }
  errors.push(...labelErrors("metadata.labels", meta.labels));
  return errors;
}
