// Cases of kube-scheduler's volume_zone_test.go (TestSingleZone, TestMultiZone, TestWithBinding): a volume
// bound to the pod's claim with zone/region labels only fits nodes labelled the same.
import { describe, expect, it } from "vitest";
import { makeNode, makePV, makePVC, podWithClaims, storageOf } from "../../../test/support/volumes.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { schedule } from "../engine.ts";
import { buildSnapshot } from "../snapshot.ts";
import { ERR_REASON_ZONE_CONFLICT } from "./volume-zone.ts";

const ZONE = "topology.kubernetes.io/zone";
const REGION = "topology.kubernetes.io/region";
const BETA_ZONE = "failure-domain.beta.kubernetes.io/zone";

function decide(pvLabels: Record<string, string>, nodeLabels: Record<string, string>) {
  const pv = makePV("pv", "local-path");
  const snapshot = buildSnapshot([{ node: makeNode("host1", nodeLabels) }]);
  snapshot.storage = storageOf(
    [makePVC("pvc", "local-path", { boundTo: "pv" })],
    [{ ...pv, metadata: { ...pv.metadata, labels: pvLabels } }],
  );
  return schedule(snapshot, podWithClaims("p", ["pvc"]), DEFAULT_SCHEDULER_CONFIG, 0);
}

const cases: ReadonlyArray<[string, Record<string, string>, Record<string, string>, boolean]> = [
  ["pv without zone labels", {}, { [ZONE]: "us-west1-a" }, true],
  ["node without zone labels", { [ZONE]: "us-west1-a" }, {}, true],
  ["label zone matched", { [ZONE]: "us-west1-a" }, { [ZONE]: "us-west1-a" }, true],
  ["label zone not matched", { [ZONE]: "us-west1-a" }, { [ZONE]: "us-west1-b" }, false],
  ["label region matched", { [REGION]: "us-west1" }, { [REGION]: "us-west1", [ZONE]: "x" }, true],
  ["label region not matched", { [REGION]: "us-west1" }, { [REGION]: "us-east1" }, false],
  ["multi-zone value matched", { [ZONE]: "us-west1-a__us-west1-b" }, { [ZONE]: "us-west1-b" }, true],
  ["multi-zone value not matched", { [ZONE]: "us-west1-a__us-west1-b" }, { [ZONE]: "us-west1-c" }, false],
  ["beta label on the volume, GA label on the node", { [BETA_ZONE]: "z1" }, { [ZONE]: "z1" }, true],
  ["beta label on the volume, other GA zone on the node", { [BETA_ZONE]: "z1" }, { [ZONE]: "z2" }, false],
  ["zone matched but region not", { [ZONE]: "z1", [REGION]: "r1" }, { [ZONE]: "z1", [REGION]: "r2" }, false],
];

describe("VolumeZone", () => {
  it.each(cases)("%s", (_name, pvLabels, nodeLabels, fits) => {
    const d = decide(pvLabels, nodeLabels);
    if (fits) expect(d.node).toBe("host1");
    else {
      expect(d.message).toBe(`0/1 nodes are available: 1 ${ERR_REASON_ZONE_CONFLICT}.`);
      expect(d.rejections[0]?.filter).toBe("VolumeZone");
    }
  });
});
