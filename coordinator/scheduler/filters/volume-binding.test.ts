// Cases of kube-scheduler's volumebinding tests (volume_binding_test.go TestVolumeBinding, binder_test.go
// FindPodVolumes), run through the engine: each reason with its FitError message, and the plan PreBind
// writes for the chosen node.
import { describe, expect, it } from "vitest";
import {
  hostnameIn,
  immediateSC,
  makeNode,
  makePV,
  makePVC,
  podWithClaims,
  provisionSC,
  storageOf,
  waitSC,
} from "../../../test/support/volumes.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { schedule } from "../engine.ts";
import type { Node, Pod } from "../k8s-types.ts";
import { buildSnapshot } from "../snapshot.ts";
import {
  ERR_REASON_BIND_CONFLICT,
  ERR_REASON_NODE_CONFLICT,
  ERR_REASON_PV_NOT_EXIST,
  ERR_REASON_UNBOUND_IMMEDIATE,
  planVolumes,
} from "./volume-binding.ts";
import type { PersistentVolume, PersistentVolumeClaim } from "./volume-types.ts";

interface Case {
  name: string;
  pod: Pod;
  nodes: Node[];
  pvcs: PersistentVolumeClaim[];
  pvs?: PersistentVolume[];
  /** The FitError message, or the node chosen. */
  want: { message: string } | { node: string };
  /** The filter that rejected the first node. */
  filter?: string;
}

const nodeA = makeNode("node-a");
const fooBar = [{ matchExpressions: [{ key: "foo", operator: "In", values: ["bar"] }] }];

const cases: Case[] = [
  {
    name: "all bound",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [nodeA],
    pvcs: [makePVC("pvc-a", waitSC.metadata?.name ?? "", { boundTo: "pv-a" })],
    pvs: [makePV("pv-a", "wait-sc")],
    want: { node: "node-a" },
  },
  {
    name: "all bound with local volumes",
    pod: podWithClaims("pod-a", ["pvc-a", "pvc-b"]),
    nodes: [makeNode("node-a"), makeNode("node-b")],
    pvcs: [
      makePVC("pvc-a", "wait-sc", { boundTo: "pv-a" }),
      makePVC("pvc-b", "wait-sc", { boundTo: "pv-b" }),
    ],
    pvs: [
      makePV("pv-a", "wait-sc", { terms: [hostnameIn("node-b")] }),
      makePV("pv-b", "wait-sc", { terms: [hostnameIn("node-b")] }),
    ],
    want: { node: "node-b" },
  },
  {
    name: "PVC does not exist",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [nodeA],
    pvcs: [],
    want: { message: '0/1 nodes are available: persistentvolumeclaim "pvc-a" not found.' },
    // VolumeRestrictions' PreFilter reads persistentVolumeClaim volumes first, with the same reason.
    filter: "VolumeRestrictions",
  },
  {
    name: "Part of PVCs do not exist",
    pod: podWithClaims("pod-a", ["pvc-a", "pvc-b"]),
    nodes: [nodeA],
    pvcs: [makePVC("pvc-a", "wait-sc", { boundTo: "pv-a" })],
    pvs: [makePV("pv-a", "wait-sc")],
    want: { message: '0/1 nodes are available: persistentvolumeclaim "pvc-b" not found.' },
    filter: "VolumeRestrictions",
  },
  {
    name: "immediate claims not bound",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [nodeA],
    pvcs: [makePVC("pvc-a", immediateSC.metadata?.name ?? "")],
    want: { message: `0/1 nodes are available: ${ERR_REASON_UNBOUND_IMMEDIATE}.` },
    filter: "VolumeBinding",
  },
  {
    name: "a claim without a class, or of a class that does not exist, is Immediate",
    pod: podWithClaims("pod-a", ["pvc-a", "pvc-b"]),
    nodes: [nodeA],
    pvcs: [makePVC("pvc-a", ""), makePVC("pvc-b", "no-such-class")],
    want: { message: `0/1 nodes are available: ${ERR_REASON_UNBOUND_IMMEDIATE}.` },
  },
  {
    name: "a pre-bound claim (volumeName, binding not completed) is Immediate",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [nodeA],
    pvcs: [
      { ...makePVC("pvc-a", "wait-sc"), spec: { ...makePVC("pvc-a", "wait-sc").spec, volumeName: "pv-a" } },
    ],
    pvs: [makePV("pv-a", "wait-sc")],
    want: { message: `0/1 nodes are available: ${ERR_REASON_UNBOUND_IMMEDIATE}.` },
  },
  {
    name: "unbound claims no matches",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [nodeA],
    pvcs: [makePVC("pvc-a", "wait-sc")],
    want: { message: `0/1 nodes are available: 1 ${ERR_REASON_BIND_CONFLICT}.` },
    filter: "VolumeBinding",
  },
  {
    name: "bound and unbound unsatisfied",
    pod: podWithClaims("pod-a", ["pvc-a", "pvc-b"]),
    nodes: [makeNode("node-a", { foo: "barbar" })],
    pvcs: [makePVC("pvc-a", "wait-sc", { boundTo: "pv-a" }), makePVC("pvc-b", "wait-sc")],
    pvs: [makePV("pv-a", "wait-sc", { terms: fooBar })],
    want: {
      message: `0/1 nodes are available: 1 ${ERR_REASON_BIND_CONFLICT}, 1 ${ERR_REASON_NODE_CONFLICT}.`,
    },
  },
  {
    // With the whole default set, VolumeZone's PreFilter (after VolumeBinding's) reads the volume first;
    // VolumeBinding's own Filter reason for it is checked below (planVolumes).
    name: "pv not found",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [nodeA],
    pvcs: [makePVC("pvc-a", "wait-sc", { boundTo: "pv-a" })],
    want: { message: '0/1 nodes are available: persistentvolume "pv-a" not found.' },
    filter: "VolumeZone",
  },
  {
    name: "pv not found claim lost",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [nodeA],
    pvcs: [makePVC("pvc-a", "wait-sc", { boundTo: "pv-a", phase: "Lost" })],
    want: {
      message:
        '0/1 nodes are available: persistentvolumeclaim "pvc-a" bound to non-existent persistentvolume "pv-a".',
    },
  },
  {
    name: "a claim being deleted",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [nodeA],
    pvcs: [makePVC("pvc-a", "local-path", { deleting: true })],
    want: { message: '0/1 nodes are available: persistentvolumeclaim "pvc-a" is being deleted.' },
  },
  {
    name: "bound volume with node affinity on one node of three",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [makeNode("node-a"), makeNode("node-b"), makeNode("node-c")],
    pvcs: [makePVC("pvc-a", "local-path", { boundTo: "pv-a" })],
    pvs: [makePV("pv-a", "local-path", { terms: [hostnameIn("node-c")] })],
    want: { node: "node-c" },
  },
  {
    name: "bound volume whose node is gone",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [makeNode("node-a"), makeNode("node-b")],
    pvcs: [makePVC("pvc-a", "local-path", { boundTo: "pv-a" })],
    pvs: [makePV("pv-a", "local-path", { terms: [hostnameIn("node-c")] })],
    want: { message: `0/2 nodes are available: 2 ${ERR_REASON_NODE_CONFLICT}.` },
  },
  {
    name: "WaitForFirstConsumer with a provisioner: every node can provision",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [makeNode("node-a"), makeNode("node-b")],
    pvcs: [makePVC("pvc-a", "local-path")],
    want: { node: "node-a" },
  },
  {
    name: "a claim already given a node (selected-node) only fits that node",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [makeNode("node-a"), makeNode("node-b"), makeNode("node-c")],
    pvcs: [
      makePVC("pvc-a", "local-path", { annotations: { "volume.kubernetes.io/selected-node": "node-b" } }),
    ],
    want: { node: "node-b" },
  },
  {
    name: "smallest matching Available volume of the class, on its node",
    pod: podWithClaims("pod-a", ["pvc-a"]),
    nodes: [makeNode("node-a"), makeNode("node-b"), makeNode("node-c")],
    pvcs: [makePVC("pvc-a", "wait-sc", { storage: "5Gi" })],
    pvs: [
      makePV("too-small", "wait-sc", { storage: "1Gi", terms: [hostnameIn("node-a")] }),
      makePV("taken", "wait-sc", {
        storage: "5Gi",
        terms: [hostnameIn("node-a")],
        claimRef: { namespace: "default", name: "other" },
      }),
      makePV("released", "wait-sc", { storage: "5Gi", terms: [hostnameIn("node-a")], phase: "Released" }),
      makePV("rwx-only", "wait-sc", {
        storage: "5Gi",
        terms: [hostnameIn("node-a")],
        accessModes: ["ReadWriteMany"],
      }),
      makePV("fits", "wait-sc", { storage: "10Gi", terms: [hostnameIn("node-c")] }),
    ],
    want: { node: "node-c" },
  },
];

describe("VolumeBinding (kube-scheduler's cases)", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const snapshot = buildSnapshot(c.nodes.map((node) => ({ node })));
    snapshot.storage = storageOf(c.pvcs, c.pvs ?? []);
    const d = schedule(snapshot, c.pod, DEFAULT_SCHEDULER_CONFIG, 0);
    if ("node" in c.want) {
      expect(d.message).not.toContain("nodes are available");
      expect(d.node).toBe(c.want.node);
    } else {
      expect(d.status).toBe("unschedulable");
      expect(d.message).toBe(c.want.message);
      if (c.filter) expect(d.rejections[0]?.filter).toBe(c.filter);
    }
  });
});

describe("planVolumes: what PreBind writes for the chosen node", () => {
  it("provisions an unmatched WaitForFirstConsumer claim and binds the matching volume of another", () => {
    const snapshot = buildSnapshot([{ node: makeNode("node-a") }, { node: makeNode("node-b") }]);
    const provisioned = makePVC("data", "local-path");
    const matched = makePVC("logs", "wait-sc");
    const pv = makePV("disk-b", "wait-sc", { terms: [hostnameIn("node-b")] });
    snapshot.storage = storageOf([provisioned, matched], [pv]);
    const pod = podWithClaims("web-0", ["data", "logs"]);
    const d = schedule(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.node).toBe("node-b");
    expect(planVolumes(snapshot, pod, "node-b")).toEqual({
      reasons: [],
      bindings: [{ claim: matched, pv }],
      provisions: [provisioned],
    });
    // The other node cannot serve `logs` (its only volume is on node-b, and wait-sc has no provisioner).
    expect(planVolumes(snapshot, pod, "node-a")?.reasons).toEqual([ERR_REASON_BIND_CONFLICT]);
  });

  it("a pre-bound volume (claimRef to this claim) wins over a smaller free one", () => {
    const snapshot = buildSnapshot([{ node: makeNode("node-a") }]);
    const claim = makePVC("data", "wait-sc");
    const free = makePV("free", "wait-sc", { storage: "1Gi" });
    const mine = makePV("mine", "wait-sc", {
      storage: "10Gi",
      phase: "Pending",
      claimRef: { namespace: "default", name: "data", uid: "uid-data" },
    });
    snapshot.storage = storageOf([claim], [free, mine]);
    expect(planVolumes(snapshot, podWithClaims("p", ["data"]), "node-a")?.bindings).toEqual([
      { claim, pv: mine },
    ]);
  });

  it("a class whose allowedTopologies leave a node out cannot provision there", () => {
    const zoned = {
      ...provisionSC,
      metadata: { name: "zoned" },
      allowedTopologies: [
        { matchLabelExpressions: [{ key: "topology.kubernetes.io/zone", values: ["z2"] }] },
      ],
    };
    const snapshot = buildSnapshot([
      { node: makeNode("node-a", { "topology.kubernetes.io/zone": "z1" }) },
      { node: makeNode("node-b", { "topology.kubernetes.io/zone": "z2" }) },
    ]);
    snapshot.storage = storageOf([makePVC("data", "zoned")], [], [zoned]);
    const d = schedule(snapshot, podWithClaims("p", ["data"]), DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.node).toBe("node-b");
    expect(d.rejections).toEqual([
      { node: "node-a", filter: "VolumeBinding", reason: ERR_REASON_BIND_CONFLICT },
    ]);
  });

  it("bound claims need no write; a pod without claims has no plan", () => {
    const snapshot = buildSnapshot([{ node: makeNode("node-a") }]);
    snapshot.storage = storageOf([makePVC("a", "wait-sc", { boundTo: "pv-a" })], [makePV("pv-a", "wait-sc")]);
    expect(planVolumes(snapshot, podWithClaims("p", ["a"]), "node-a")).toEqual({
      reasons: [],
      bindings: [],
      provisions: [],
    });
    expect(planVolumes(snapshot, podWithClaims("q", []), "node-a")).toBeUndefined();
  });
});

describe("VolumeBinding's Filter alone", () => {
  it("pv not found: only its own reason", () => {
    const snapshot = buildSnapshot([{ node: nodeA }]);
    snapshot.storage = storageOf([makePVC("pvc-a", "wait-sc", { boundTo: "pv-a" })]);
    expect(planVolumes(snapshot, podWithClaims("pod-a", ["pvc-a"]), "node-a")?.reasons).toEqual([
      ERR_REASON_PV_NOT_EXIST,
    ]);
  });
});

describe("generic ephemeral volumes", () => {
  const ephemeralPod = (uid: string): Pod => ({
    metadata: { name: "web", namespace: "default", uid },
    spec: {
      containers: [{ name: "c" }],
      volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: {} } }],
    },
  });

  it("use the claim <pod>-<volume>, which must exist and be controlled by the pod", () => {
    const snapshot = buildSnapshot([{ node: makeNode("node-a") }]);
    snapshot.storage = storageOf([]);
    // kube-scheduler's podHasPVCs words a missing ephemeral claim so: the ephemeral volume controller has not made it yet.
    expect(schedule(snapshot, ephemeralPod("u1"), DEFAULT_SCHEDULER_CONFIG, 0).message).toBe(
      '0/1 nodes are available: waiting for ephemeral volume controller to create the persistentvolumeclaim "web-scratch".',
    );
    snapshot.storage = storageOf([makePVC("web-scratch", "local-path", { owner: "someone-else" })]);
    expect(schedule(snapshot, ephemeralPod("u1"), DEFAULT_SCHEDULER_CONFIG, 0).message).toBe(
      "0/1 nodes are available: PVC default/web-scratch was not created for pod default/web (pod is not owner).",
    );
    snapshot.storage = storageOf([makePVC("web-scratch", "local-path", { owner: "u1" })]);
    const d = schedule(snapshot, ephemeralPod("u1"), DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.node).toBe("node-a");
    expect(
      planVolumes(snapshot, ephemeralPod("u1"), "node-a")?.provisions.map((c) => c.metadata?.name),
    ).toEqual(["web-scratch"]);
  });
});
