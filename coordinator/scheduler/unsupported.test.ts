import { V1PodSpec, V1Volume } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG } from "./config.ts";
import { schedule, UNSUPPORTED_FILTER } from "./engine.ts";
import type { Node, Pod } from "./k8s-types.ts";
import { buildSnapshot } from "./snapshot.ts";
import { unsupportedFields } from "./unsupported.ts";

const node = (name: string): Node => ({
  metadata: { name, labels: { "kubernetes.io/hostname": name } },
  status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" } },
});
const snapshot = () => buildSnapshot([{ node: node("a") }, { node: node("b") }]);
const withSpec = (spec: Record<string, unknown>): Pod =>
  ({ metadata: { name: "p", namespace: "default" }, spec: { containers: [{ name: "c" }], ...spec } }) as Pod;
const fields = (spec: Record<string, unknown>) => unsupportedFields(withSpec(spec)).map((f) => f.field);

describe("unsupportedFields", () => {
  it("accepts a pod that only uses honoured and placement-irrelevant fields", () => {
    expect(
      fields({
        nodeSelector: { a: "b" },
        tolerations: [{ operator: "Exists" }],
        priorityClassName: "high",
        priority: 1000,
        preemptionPolicy: "Never",
        schedulerName: "k3s-fleet",
        serviceAccountName: "x",
        hostNetwork: true,
        volumes: [
          { name: "cfg", configMap: { name: "c" } },
          { name: "tmp", emptyDir: {} },
          { name: "s", secret: { secretName: "s" }, persistentVolumeClaim: undefined },
        ],
        affinity: {
          nodeAffinity: {},
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: {}, topologyKey: "kubernetes.io/hostname", namespaceSelector: {} },
            ],
          },
        },
        topologySpreadConstraints: [],
      }),
    ).toEqual([]);
  });

  it("names every refused field: DRA, pod-level resources, CSI and in-tree disks (NodeVolumeLimits), unknown fields", () => {
    expect(
      fields({
        resourceClaims: [{ name: "gpu" }],
        resources: { requests: { cpu: "1" } },
        futureField: { x: 1 },
        containers: [{ name: "c", resources: { claims: [{ name: "gpu" }] } }],
        volumes: [
          { name: "data", persistentVolumeClaim: { claimName: "data" } },
          { name: "e", ephemeral: { volumeClaimTemplate: {} } },
          { name: "c", csi: { driver: "x" } },
          { name: "g", gcePersistentDisk: { pdName: "pd" } },
          { name: "n", someNewSource: {} },
        ],
        affinity: {
          futureAffinity: {},
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: {}, topologyKey: "zone", namespaceSelector: { matchLabels: { team: "a" } } },
            ],
          },
        },
      }),
    ).toEqual([
      "spec.resourceClaims",
      "spec.resources",
      "spec.futureField",
      "spec.affinity.futureAffinity",
      "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector",
      "spec.containers[0].resources.claims",
      "spec.volumes[2].csi",
      "spec.volumes[3].gcePersistentDisk",
      "spec.volumes[4].someNewSource",
    ]);
  });
});

describe("every PodSpec field of the client library is classified", () => {
  // A client-node upgrade that adds a field shows up here; until it is classified it is refused.
  it("refuses exactly the placement-relevant fields the engine does not implement, and unknown ones", () => {
    const refused = V1PodSpec.getAttributeTypeMap()
      .map((a) => a.name)
      .filter((key) => fields({ [key]: { x: 1 } }).includes(`spec.${key}`));
    expect(refused.sort()).toEqual(["resourceClaims", "resources", "schedulingGroup"]);
  });

  it("refuses the volume sources with node-bound or limited storage", () => {
    const refused = V1Volume.getAttributeTypeMap()
      .map((a) => a.name)
      .filter((key) => key !== "name")
      .filter((key) => fields({ volumes: [{ name: "v", [key]: { x: 1 } }] }).length > 0);
    expect(refused.sort()).toEqual([
      "awsElasticBlockStore",
      "azureDisk",
      "cinder",
      "csi",
      "gcePersistentDisk",
    ]);
  });
});

describe("schedule refuses what it does not honour", () => {
  it("makes the pod unschedulable on every node with a message naming the field", () => {
    const d = schedule(
      snapshot(),
      withSpec({ volumes: [{ name: "disk", awsElasticBlockStore: { volumeID: "vol-1" } }] }),
      DEFAULT_SCHEDULER_CONFIG,
      0,
    );
    expect(d.status).toBe("unschedulable");
    expect(d.node).toBeUndefined();
    expect(d.message).toBe(
      "0/2 nodes are available: pod uses spec.volumes[0].awsElasticBlockStore (NodeVolumeLimits is not implemented), which the k3s-fleet scheduler does not honour.",
    );
    expect(d.rejections.map((r) => [r.node, r.filter])).toEqual([
      ["a", UNSUPPORTED_FILTER],
      ["b", UNSUPPORTED_FILTER],
    ]);
  });

  it("names several fields in one reason, kept whole (joined with '; ')", () => {
    const d = schedule(
      snapshot(),
      withSpec({ resourceClaims: [{ name: "gpu" }], volumes: [{ name: "c", csi: { driver: "x" } }] }),
      DEFAULT_SCHEDULER_CONFIG,
      0,
    );
    expect(d.rejections[0]?.reason).toBe(
      "pod uses spec.resourceClaims (dynamic resource allocation (DynamicResources) is not implemented); spec.volumes[0].csi (NodeVolumeLimits is not implemented), which the k3s-fleet scheduler does not honour",
    );
  });

  it("still places the same pod without the field", () => {
    const d = schedule(
      snapshot(),
      withSpec({ volumes: [{ name: "t", emptyDir: {} }] }),
      DEFAULT_SCHEDULER_CONFIG,
      0,
    );
    expect(d.status).toBe("scheduled");
  });
});
