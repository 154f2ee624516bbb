// coordination.k8s.io/v1 Leases, for leader election: no status, plain spec, optimistic concurrency from the
// generic update path (a PUT naming an old resourceVersion gets 409 Conflict, as from the real server).
import { invalid } from "./field-errors.ts";
import type { ResourceDef } from "./resources.ts";
import { isObject, type KubeObject } from "./types.ts";

/** ValidateLeaseSpec: durations and transitions are never negative. */
function leaseErrors(lease: KubeObject) {
  const spec = isObject(lease.spec) ? lease.spec : {};
  const errors = [];
  for (const field of ["leaseDurationSeconds", "leaseTransitions"] as const) {
    const value = spec[field];
    if (typeof value === "number" && value < 0)
      errors.push(invalid(`spec.${field}`, value, "must be greater than or equal to 0"));
  }
  return errors;
}

export const leases: ResourceDef = {
  group: "coordination.k8s.io",
  version: "v1",
  resource: "leases",
  singular: "lease",
  kind: "Lease",
  namespaced: true,
  shortNames: [],
  verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
  storage: "leases",
  nameRule: "subdomain",
  fieldLabels: ["metadata.name", "metadata.namespace"],
  returnDeletedObject: false,
  hasStatus: false,
  toStorage: (obj) => obj,
  fromStorage: (obj) => obj,
  prepareForCreate() {},
  prepareForUpdate() {},
  prepareForStatusUpdate() {},
  validate: leaseErrors,
  validateUpdate: leaseErrors,
};
