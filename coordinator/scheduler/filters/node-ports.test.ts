// Cases of kube-scheduler's node_ports_test.go (TestNodePorts, TestFits), run through the engine.
import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { schedule } from "../engine.ts";
import type { ContainerPort, Node, Pod } from "../k8s-types.ts";
import { createScheduler } from "../scheduler.ts";
import { buildSnapshot } from "../snapshot.ts";
import { ERR_REASON_NODE_PORTS, podHostPorts } from "./node-ports.ts";

const ports = (specs: readonly string[]): ContainerPort[] =>
  specs.map((s) => {
    const [protocol, hostIP, port] = s.split("/") as [string, string, string];
    return { protocol, hostIP, hostPort: Number(port), containerPort: Number(port) };
  });
const pod = (name: string, ...specs: string[]): Pod => ({
  metadata: { name, namespace: "default" },
  spec: { containers: [{ name: "c", ports: ports(specs) }] },
});
const node: Node = {
  metadata: { name: "n1", labels: { "kubernetes.io/hostname": "n1" } },
  status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" } },
};
const decide = (incoming: Pod, existing: Pod) =>
  schedule(buildSnapshot([{ node, pods: [existing] }]), incoming, DEFAULT_SCHEDULER_CONFIG, 0);

const cases: ReadonlyArray<[string, string[], string[], boolean]> = [
  ["other port", ["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/9090"], true],
  ["same udp port", ["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], false],
  ["same tcp port", ["TCP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], false],
  ["different host ip", ["TCP/127.0.0.1/8080"], ["TCP/127.0.0.2/8080"], true],
  ["different protocol", ["UDP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], true],
  ["second udp port conflict", ["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], false],
  [
    "first tcp port conflict",
    ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
    ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"],
    false,
  ],
  ["first tcp port conflict due to 0.0.0.0 hostIP", ["TCP/0.0.0.0/8001"], ["TCP/127.0.0.1/8001"], false],
  [
    "TCP hostPort conflict due to 0.0.0.0 hostIP",
    ["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
    ["TCP/127.0.0.1/8001"],
    false,
  ],
  ["second tcp port conflict to 0.0.0.0 hostIP", ["TCP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], false],
  ["second different protocol", ["UDP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], true],
  [
    "UDP hostPort conflict due to 0.0.0.0 hostIP",
    ["UDP/127.0.0.1/8001"],
    ["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"],
    false,
  ],
  // TestFits
  ["non-conflicting ports", ["TCP/127.0.0.1/80"], ["TCP/127.0.0.1/9090"], true],
  [
    "multiple non-conflicting ports",
    ["TCP/127.0.0.1/80", "TCP/127.0.1.1/80", "TCP/127.0.1.1/90", "TCP/127.0.1.1/100"],
    ["TCP/127.0.0.1/9090", "TCP/127.0.0.1/9191", "TCP/127.0.1.1/8080"],
    true,
  ],
  ["same ports on different protocols", ["TCP/127.0.0.1/80"], ["UDP/127.0.0.1/80"], true],
  [
    "multiple ports, some conflicting",
    ["TCP/127.0.0.1/80", "TCP/127.0.1.1/80", "TCP/127.0.1.1/90", "TCP/127.0.1.1/100"],
    ["TCP/127.0.0.1/9090", "TCP/127.0.1.1/90", "TCP/127.0.1.1/8080"],
    false,
  ],
];

describe("NodePorts (kube-scheduler's table)", () => {
  it.each(cases)("%s", (_name, want, used, fits) => {
    const d = decide(pod("m1", ...want), pod("p1", ...used));
    if (fits) expect(d.status).toBe("scheduled");
    else {
      expect(d.status).toBe("unschedulable");
      expect(d.rejections).toEqual([{ node: "n1", filter: "NodePorts", reason: ERR_REASON_NODE_PORTS }]);
      expect(d.message).toBe(`0/1 nodes are available: 1 ${ERR_REASON_NODE_PORTS}.`);
    }
  });

  it("counts sidecar init containers' ports, not plain init containers'", () => {
    const init = (restartPolicy?: string): Pod => ({
      metadata: { name: "m1" },
      spec: {
        initContainers: [
          { name: "i", ...(restartPolicy ? { restartPolicy } : {}), ports: ports(["TCP/0.0.0.0/8001"]) },
        ],
        containers: [{ name: "c" }],
      },
    });
    expect(podHostPorts(init())).toEqual([]);
    expect(decide(init(), pod("p1", "TCP/0.0.0.0/8001")).status).toBe("scheduled");
    expect(decide(init("Always"), pod("p1", "TCP/0.0.0.0/8001")).status).toBe("unschedulable");
  });

  it("defaults: empty protocol is TCP, empty hostIP is 0.0.0.0, hostNetwork makes container ports host ports", () => {
    expect(podHostPorts({ spec: { containers: [{ ports: [{ hostPort: 80 }] }] } })).toEqual([
      { ip: "0.0.0.0", protocol: "TCP", port: 80 },
    ]);
    expect(podHostPorts({ spec: { containers: [{ ports: [{ containerPort: 80 }] }] } })).toEqual([]);
    expect(
      podHostPorts({
        spec: { hostNetwork: true, containers: [{ ports: [{ containerPort: 53, protocol: "UDP" }] }] },
      }),
    ).toEqual([{ ip: "0.0.0.0", protocol: "UDP", port: 53 }]);
  });

  it("picks the node whose port is free, and sees an assumed pod's port at once", () => {
    const nodes = ["a", "b"].map((name) => ({
      node: { ...node, metadata: { name, labels: { "kubernetes.io/hostname": name } } },
      pods: name === "a" ? [pod("web-0", "TCP//8080")] : [],
    }));
    const snapshot = buildSnapshot(nodes);
    const scheduler = createScheduler();
    expect(scheduler.decide(snapshot, pod("web-1", "TCP//8080"), 0).node).toBe("b");
    const third = scheduler.decide(snapshot, pod("web-2", "TCP//8080"), 1);
    expect(third.status).toBe("unschedulable");
    expect(third.message).toBe(`0/2 nodes are available: 2 ${ERR_REASON_NODE_PORTS}.`);
    scheduler.assumed.forget(snapshot, "default/web-1");
    expect(scheduler.decide(snapshot, pod("web-2", "TCP//8080"), 2).node).toBe("b");
  });
});
