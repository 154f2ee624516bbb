// policy/v1 PodDisruptionBudgets, read by preemption (kube-scheduler lists them through its informer;
// the coordinator lists them when it is about to preempt). As upstream's registry strategy
// (pkg/registry/policy/poddisruptionbudget/strategy.go): status is cleared on create and kept on spec
// updates, spec kept on status updates, generation starts at 1; ValidatePodDisruptionBudgetSpec's "both
// minAvailable and maxUnavailable" rule. The disruption controller that fills status is not run: a
// test sets status through the test API (addPdb) as that controller would.
import { invalid } from "./field-errors.ts";
import type { ResourceDef } from "./resources.ts";
import { isObject, type KubeObject } from "./types.ts";

function pdbErrors(pdb: KubeObject) {
  const spec = isObject(pdb.spec) ? pdb.spec : {};
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined)
    return [invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")];
  return [];
}

export const podDisruptionBudgets: ResourceDef = {
  group: "policy",
  version: "v1",
  resource: "poddisruptionbudgets",
  singular: "poddisruptionbudget",
  kind: "PodDisruptionBudget",
  namespaced: true,
  shortNames: ["pdb"],
  verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
  storage: "poddisruptionbudgets",
  nameRule: "subdomain",
  fieldLabels: ["metadata.name", "metadata.namespace"],
  returnDeletedObject: false,
  hasStatus: true,
  toStorage: (obj) => obj,
  fromStorage: (obj) => obj,
  prepareForCreate(pdb) {
    pdb.status = {};
    pdb.metadata.generation = 1;
  },
  prepareForUpdate(pdb, old) {
    pdb.status = structuredClone(old.status);
  },
  prepareForStatusUpdate(pdb, old) {
    pdb.spec = structuredClone(old.spec);
  },
  validate: pdbErrors,
  validateUpdate: pdbErrors,
};
