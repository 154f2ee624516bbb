// Cases of kube-scheduler's volume_restrictions_test.go (TestGCEDiskConflicts, TestAWSDiskConflicts,
// TestRBDDiskConflicts, TestISCSIDiskConflicts): the same disk mounted by a pod on the node conflicts,
// unless both mount it read-only (not for EBS). Through the engine for the sources it schedules (iSCSI, RBD).
import { describe, expect, it } from "vitest";
import { makeNode } from "../../../test/support/volumes.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { schedule } from "../engine.ts";
import type { Pod } from "../k8s-types.ts";
import { buildSnapshot } from "../snapshot.ts";
import { disksConflict, ERR_REASON_DISK_CONFLICT } from "./volume-disks.ts";

const gce = (pdName: string, readOnly = false) => ({ gcePersistentDisk: { pdName, readOnly } });
const ebs = (volumeID: string) => ({ awsElasticBlockStore: { volumeID } });
const iscsi = (iqn: string, readOnly = false) => ({
  iscsi: { targetPortal: "p:3260", iqn, lun: 0, readOnly },
});
const rbd = (monitors: string[], image: string, readOnly = false) => ({
  rbd: { monitors, pool: "rbd", image, readOnly },
});

const cases: ReadonlyArray<[string, object, object, boolean]> = [
  ["GCE: same disk", gce("foo"), gce("foo"), true],
  ["GCE: other disk", gce("foo"), gce("bar"), false],
  ["GCE: same disk, both read-only", gce("foo", true), gce("foo", true), false],
  ["GCE: same disk, one read-write", gce("foo", true), gce("foo"), true],
  ["EBS: same volume", ebs("foo"), ebs("foo"), true],
  ["EBS: other volume", ebs("foo"), ebs("bar"), false],
  ["RBD: same image, overlapping monitors", rbd(["a", "b"], "foo"), rbd(["b", "c"], "foo"), true],
  ["RBD: same image, no common monitor", rbd(["a"], "foo"), rbd(["c"], "foo"), false],
  ["RBD: other image", rbd(["a"], "foo"), rbd(["a"], "bar"), false],
  ["RBD: same image, both read-only", rbd(["a"], "foo", true), rbd(["a"], "foo", true), false],
  [
    "iSCSI: same IQN",
    iscsi("iqn.2016-12.server:storage.target01"),
    iscsi("iqn.2016-12.server:storage.target01"),
    true,
  ],
  [
    "iSCSI: other IQN",
    iscsi("iqn.2016-12.server:storage.target01"),
    iscsi("iqn.2017-12.server:storage.target01"),
    false,
  ],
  ["iSCSI: same IQN, both read-only", iscsi("iqn.x", true), iscsi("iqn.x", true), false],
  ["different kinds never conflict", gce("foo"), ebs("foo"), false],
];

describe("disk conflicts", () => {
  it.each(cases)("%s", (_name, a, b, conflict) => {
    expect(disksConflict(a, b)).toBe(conflict);
  });
});

const podWith = (name: string, volume: object): Pod => ({
  metadata: { name, namespace: "default", uid: name },
  spec: { containers: [{ name: "c" }], volumes: [{ name: "v", ...volume }] },
});

describe("VolumeRestrictions through the engine", () => {
  it("a node already mounting the same iSCSI target read-write is rejected; the other node takes the pod", () => {
    const snapshot = buildSnapshot([
      { node: makeNode("node-a"), pods: [podWith("db", iscsi("iqn.x"))] },
      { node: makeNode("node-b"), pods: [podWith("other", iscsi("iqn.y"))] },
    ]);
    const d = schedule(snapshot, podWith("new", iscsi("iqn.x")), DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.node).toBe("node-b");
    expect(d.rejections).toEqual([
      { node: "node-a", filter: "VolumeRestrictions", reason: ERR_REASON_DISK_CONFLICT },
    ]);
  });

  it("an RBD image mounted read-write on every node: unschedulable with kube-scheduler's reason", () => {
    const snapshot = buildSnapshot([{ node: makeNode("node-a"), pods: [podWith("db", rbd(["m1"], "img"))] }]);
    const d = schedule(snapshot, podWith("new", rbd(["m1", "m2"], "img", true)), DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.message).toBe(`0/1 nodes are available: 1 ${ERR_REASON_DISK_CONFLICT}.`);
  });
});
