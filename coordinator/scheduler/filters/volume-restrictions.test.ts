// Cases of kube-scheduler's volumerestrictions tests (TestAccessModeConflicts): a ReadWriteOncePod claim
// already used by a pod anywhere in the snapshot (bound or assumed) rejects every node.
import { describe, expect, it } from "vitest";
import { makeNode, makePVC, podWithClaims, storageOf } from "../../../test/support/volumes.ts";
import { createAssumeCache } from "../assume.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { schedule } from "../engine.ts";
import { buildSnapshot } from "../snapshot.ts";
import { ERR_REASON_RWOP_CONFLICT } from "./volume-restrictions.ts";

const rwop = (name: string) => makePVC(name, "local-path", { accessModes: ["ReadWriteOncePod"] });
const claims = [rwop("claim-with-rwop-1"), rwop("claim-with-rwop-2"), makePVC("claim-rwo", "local-path")];
const nodes = () => [
  { node: makeNode("node-1"), pods: [podWithClaims("pod-1", ["claim-with-rwop-1"])] },
  { node: makeNode("node-2") },
];

describe("VolumeRestrictions: ReadWriteOncePod", () => {
  it("nothing to do: no ReadWriteOncePod claim in use", () => {
    const snapshot = buildSnapshot(nodes());
    snapshot.storage = storageOf(claims);
    expect(
      schedule(snapshot, podWithClaims("p", ["claim-with-rwop-2"]), DEFAULT_SCHEDULER_CONFIG, 0).status,
    ).toBe("scheduled");
  });

  it("a claim used by another pod rejects every node, with kube-scheduler's reason", () => {
    const snapshot = buildSnapshot(nodes());
    snapshot.storage = storageOf(claims);
    const d = schedule(snapshot, podWithClaims("p", ["claim-with-rwop-1"]), DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.message).toBe(`0/2 nodes are available: 2 ${ERR_REASON_RWOP_CONFLICT}.`);
    expect(d.rejections.map((r) => r.filter)).toEqual(["VolumeRestrictions", "VolumeRestrictions"]);
  });

  it("a ReadWriteOnce claim may be shared", () => {
    const snapshot = buildSnapshot([
      { node: makeNode("node-1"), pods: [podWithClaims("pod-1", ["claim-rwo"])] },
    ]);
    snapshot.storage = storageOf(claims);
    expect(schedule(snapshot, podWithClaims("p", ["claim-rwo"]), DEFAULT_SCHEDULER_CONFIG, 0).node).toBe(
      "node-1",
    );
  });

  it("a pod assumed onto a node (not yet bound) holds its claim too", () => {
    const snapshot = buildSnapshot([{ node: makeNode("node-1") }]);
    snapshot.storage = storageOf(claims);
    createAssumeCache(DEFAULT_SCHEDULER_CONFIG).assume(
      snapshot,
      podWithClaims("first", ["claim-with-rwop-2"]),
      "node-1",
      0,
    );
    const d = schedule(snapshot, podWithClaims("second", ["claim-with-rwop-2"]), DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.message).toBe(`0/1 nodes are available: 1 ${ERR_REASON_RWOP_CONFLICT}.`);
  });

  it("a missing claim is the PreFilter's reason", () => {
    const snapshot = buildSnapshot(nodes());
    snapshot.storage = storageOf(claims);
    const d = schedule(snapshot, podWithClaims("p", ["claim-not-found"]), DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.message).toBe('0/2 nodes are available: persistentvolumeclaim "claim-not-found" not found.');
  });
});
