// The shipped K3s manifests must be valid Kubernetes objects: each document is validated against the
// Kubernetes OpenAPI schemas (kubernetes-models), and the RBAC must stay least-privilege.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DaemonSet, Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { configSchema } from "../cli/config/schema.ts";

const DIR = fileURLToPath(new URL("../deploy/k3s", import.meta.url));

type Validatable = { validate(): void };
const MODELS: Record<string, new (data: never) => Validatable> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/DaemonSet": DaemonSet,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};

const documents = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((doc, i) => {
      expect(doc.errors, `${file} document ${i}`).toEqual([]);
      return { file, object: doc.toJS() as { apiVersion: string; kind: string; metadata: { name: string } } };
    }),
  );

describe("deploy/k3s manifests", () => {
  it("contains the pieces the issue names", () => {
    const kinds = documents.map((d) => `${d.object.kind}/${d.object.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "Namespace/k3s-fleet",
        "ClusterRole/k3s-fleet-coordinator",
        "Deployment/k3s-fleet-coordinator",
        "DaemonSet/k3s-fleet-agent",
        "ConfigMap/k3s-fleet-config",
        "Deployment/fleet-scheduled-nginx",
      ]),
    );
  });

  it.each(documents.map((d) => [`${d.file}: ${d.object.kind}/${d.object.metadata.name}`, d.object] as const))(
    "%s is a valid Kubernetes object",
    (_name, object) => {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `no model for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new (Model as new (data: unknown) => Validatable)(object).validate()).not.toThrow();
    },
  );

  it("rejects an invalid object (the validation is real)", () => {
    const broken = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: { replicas: "three" },
    };
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it("grants the coordinator only what it uses", () => {
    const role = documents.find((d) => d.object.kind === "ClusterRole")?.object as unknown as {
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    };
    const grants = role.rules.flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.flatMap((res) => r.verbs.map((v) => `${g || "core"}/${res}:${v}`)),
      ),
    );
    expect(grants.sort()).toEqual(
      [
        "core/nodes:list",
        "core/nodes:watch",
        "core/pods:get",
        "core/pods:list",
        "core/pods:watch",
        "core/pods:create",
        "core/pods:delete",
        "core/pods/status:patch",
        "policy/poddisruptionbudgets:list",
        "core/bindings:create",
        "core/persistentvolumeclaims:list",
        "core/persistentvolumeclaims:watch",
        "core/persistentvolumeclaims:patch",
        "core/persistentvolumes:list",
        "core/persistentvolumes:watch",
        "core/persistentvolumes:patch",
        "storage.k8s.io/storageclasses:list",
        "storage.k8s.io/storageclasses:watch",
        "events.k8s.io/events:create",
        "metrics.k8s.io/nodes:list",
        "metrics.k8s.io/pods:list",
      ].sort(),
    );
    expect(grants.some((g) => g.includes("*") || g.includes("secrets"))).toBe(false);
  });

  it("lets the coordinator hold its one Lease and nothing else in coordination.k8s.io", () => {
    const role = documents.find((d) => d.object.kind === "Role")?.object as unknown as {
      metadata: { namespace: string };
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>;
    };
    expect(role.metadata.namespace).toBe("k3s-fleet");
    expect(role.rules).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["k3s-fleet-coordinator"],
        verbs: ["get", "update"],
      },
    ]);
  });

  it("runs two coordinator replicas on different hosts where it can, with a disruption budget", () => {
    const deployment = documents.find(
      (d) => d.object.kind === "Deployment" && d.object.metadata.name === "k3s-fleet-coordinator",
    )?.object as unknown as {
      spec: {
        replicas: number;
        template: { spec: { affinity: unknown; containers: Array<{ env: Array<{ name: string }> }> } };
      };
    };
    expect(deployment.spec.replicas).toBe(2);
    expect(JSON.stringify(deployment.spec.template.spec.affinity)).toContain("kubernetes.io/hostname");
    const env = deployment.spec.template.spec.containers[0]?.env.map((e) => e.name) ?? [];
    expect(env).toContain("K3S_FLEET_COORDINATOR_LEADER_ELECTION_IDENTITY");
    const pdb = documents.find((d) => d.object.kind === "PodDisruptionBudget")?.object as unknown as {
      spec: { minAvailable: number };
    };
    expect(pdb.spec.minAvailable).toBe(1);
  });

  it("ships a ConfigMap that k3s-fleet's own config schema accepts", () => {
    const cm = documents.find((d) => d.object.kind === "ConfigMap")?.object as unknown as {
      data: Record<string, string>;
    };
    const parsed = configSchema.safeParse(parseYaml(cm.data["config.yaml"] ?? ""));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it("gives the example workload our schedulerName", () => {
    const example = documents.find((d) => d.object.metadata.name === "fleet-scheduled-nginx")
      ?.object as unknown as {
      spec: { template: { spec: { schedulerName: string } } };
    };
    expect(example.spec.template.spec.schedulerName).toBe("k3s-fleet");
  });
});
