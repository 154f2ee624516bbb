// One decision path: plugins injected into the scheduler decide for every source of work — a pending pod,
// an MQTT request that creates its pod, a dry run, an advisory (standalone) answer. Before, the request
// paths ran the default plugins whatever was injected.
import { describe, expect, it } from "vitest";
import { REAL_TIMERS } from "../../common/timers.ts";
import { DecisionStatus, encode, type ScheduleDecision, topicsFor } from "../../proto/index.ts";
import { fakeKube, scheduleRequest, testCore } from "../../test/support/placement.ts";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import { DEFAULT_PLUGINS, filterPlugin, type NodeInput, type Plugins } from "../scheduler/index.ts";
import type { PodObject } from "./inputs.ts";
import { createRequestHandler, DEFAULT_POLICY } from "./mqtt-requests.ts";
import { createPodScheduler } from "./pod-scheduler.ts";

const root = topicsFor().root;
// Two equal nodes: left alone the engine picks "a" (ties break on the name).
const nodes = (): NodeInput[] => [
  { node: makeNode("a", { allocatable: capacity("4", "8Gi") }), pods: [] },
  { node: makeNode("b", { allocatable: capacity("4", "8Gi") }), pods: [] },
];
const maintenance: Plugins = {
  filters: [
    ...DEFAULT_PLUGINS.filters,
    filterPlugin("Maintenance", (node) => (node.name === "a" ? "node(s) were under maintenance" : null)),
  ],
  scores: DEFAULT_PLUGINS.scores,
};

async function ask(
  plugins: Plugins | undefined,
  init: Parameters<typeof scheduleRequest>[2],
  standalone = false,
): Promise<ScheduleDecision> {
  const core = testCore(nodes(), {}, undefined, plugins);
  const replies: ScheduleDecision[] = [];
  const handler = createRequestHandler({
    core,
    root,
    policy: DEFAULT_POLICY,
    ...(standalone
      ? {}
      : {
          cluster: {
            kube: fakeKube().kube,
            inFlight: new Set<string>(),
            handOff: () => {},
            ready: () => true,
          },
        }),
    publish: async (_topic, d) => {
      replies.push(d);
    },
  });
  await handler.handle(encode("scheduleRequest", scheduleRequest(root, "cli", init)));
  return replies[0] as ScheduleDecision;
}

describe("injected plugins reach every decision path", () => {
  it("MQTT requests: created and bound, dry run, standalone", async () => {
    for (const [init, standalone] of [
      [{}, false],
      [{ dryRun: true }, false],
      [{}, true],
    ] as const) {
      expect((await ask(undefined, init, standalone)).node).toBe("a");
      const d = await ask(maintenance, init, standalone);
      expect(d).toMatchObject({ status: DecisionStatus.SCHEDULED, node: "b" });
      expect(d.rejections.map((r) => [r.node, r.filter, r.reason])).toEqual([
        ["a", "Maintenance", "node(s) were under maintenance"],
      ]);
    }
  });

  it("pending pods", async () => {
    const pod = makePod("p", { uid: "uid-p", requests: [{ cpu: "100m" }] });
    const ours: PodObject = { ...pod, spec: { ...pod.spec, schedulerName: "k3s-fleet" } };
    const k = fakeKube([ours]);
    const core = testCore(nodes(), {}, Date.now, maintenance);
    const scheduler = createPodScheduler({ core, kube: k.kube, timers: REAL_TIMERS, inFlight: new Set() });
    scheduler.podChanged("add", ours);
    await core.queue.idle();
    for (let i = 0; i < 200 && core.analytics.records().length === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    scheduler.stop();
    expect(k.calls).toEqual(["bind default/p b"]);
    expect(core.analytics.records().map((r) => [r.status, r.node])).toEqual([["scheduled", "b"]]);
  });
});
