import { describe, expect, it } from "vitest";
import { agentClientId, CONTRACT, nodeIdProblem, parseTopic, TopicError, topicsFor } from "./topics.ts";

const root = "k3s-fleet/v1";

describe("topic builders", () => {
  const t = topicsFor(root);
  it.each([
    [t.birth("edge-1"), "k3s-fleet/v1/node/edge-1/birth"],
    [t.telemetry("edge-1"), "k3s-fleet/v1/node/edge-1/telemetry"],
    [t.nodeStatus("edge-1"), "k3s-fleet/v1/node/edge-1/status"],
    [t.coordinatorStatus, "k3s-fleet/v1/coordinator/status"],
    [t.report, "k3s-fleet/v1/coordinator/report"],
    [t.scheduleRequest, "k3s-fleet/v1/schedule/request"],
    [t.scheduleReply("cli-7"), "k3s-fleet/v1/schedule/reply/cli-7"],
  ])("%s", (built, expected) => expect(built).toBe(expected));

  it.each([
    ...["", "a/b", "a+b", "#", "tab\there", "x".repeat(254), " pi-1", "pi-1 ", " "],
    // C1 controls (U+009B is CSI to a terminal) and text-direction overrides ("pi-1\u202e2-ip" shows as another name)
    ...["pi\u009b2J", "pi-1\u202e2-ip", "pi\u2066x\u2069"],
  ])("rejects node id %j", (id) => {
    expect(nodeIdProblem(id)).toBeTypeOf("string");
    expect(() => t.telemetry(id)).toThrow(TopicError);
  });

  it("accepts ids Kubernetes node names use", () => {
    for (const id of ["k3s-node-1", "ip-10-0-0-1.ec2.internal", "raspberrypi", "édge_01"]) {
      expect(nodeIdProblem(id)).toBeUndefined();
    }
  });

  it.each(["", "a/#", "+/x", "/lead", "trail/"])("rejects topic root %j", (bad) => {
    expect(() => topicsFor(bad)).toThrow(TopicError);
  });

  it("uses the configured root", () => {
    expect(topicsFor("site-a/fleet/v1").telemetry("n")).toBe("site-a/fleet/v1/node/n/telemetry");
  });

  it("fixes QoS and retain per kind as the contract table says", () => {
    expect(CONTRACT.birth).toMatchObject({ qos: 1, retain: true });
    expect(CONTRACT.telemetry).toMatchObject({ qos: 1, retain: false });
    expect(CONTRACT.nodeStatus).toMatchObject({ qos: 1, retain: true });
    expect(CONTRACT.coordinatorStatus).toMatchObject({ qos: 1, retain: true });
    expect(CONTRACT.report).toMatchObject({ qos: 1, retain: true });
    expect(CONTRACT.scheduleRequest).toMatchObject({ qos: 1, retain: false });
    expect(CONTRACT.scheduleDecision).toMatchObject({ qos: 1, retain: false });
  });
});

describe("parseTopic", () => {
  it.each([
    ["k3s-fleet/v1/node/n1/birth", { kind: "birth", nodeId: "n1" }],
    ["k3s-fleet/v1/node/n1/telemetry", { kind: "telemetry", nodeId: "n1" }],
    ["k3s-fleet/v1/node/n1/status", { kind: "nodeStatus", nodeId: "n1" }],
    ["k3s-fleet/v1/coordinator/status", { kind: "coordinatorStatus" }],
    ["k3s-fleet/v1/coordinator/report", { kind: "report" }],
    ["k3s-fleet/v1/schedule/request", { kind: "scheduleRequest" }],
    ["k3s-fleet/v1/schedule/reply/c1", { kind: "scheduleDecision", clientId: "c1" }],
  ])("%s", (topic, expected) => {
    expect(parseTopic(root, topic)).toEqual({ ok: true, topic: expected });
  });

  it.each([
    ["other/v1/node/n1/birth", "bad_topic"],
    ["k3s-fleet/v1/node/n1/weather", "bad_topic"],
    ["k3s-fleet/v1/node/a+b/telemetry", "bad_node_id"],
    ["k3s-fleet/v1/node/a#/telemetry", "bad_node_id"],
    ["k3s-fleet/v1/node//telemetry", "bad_node_id"],
    ["k3s-fleet/v1/node/a/b/telemetry", "bad_node_id"],
    ["k3s-fleet/v1/coordinator/other", "bad_topic"],
    ["k3s-fleet/v1", "bad_topic"],
  ])("rejects %s as %s", (topic, reason) => {
    const parsed = parseTopic(root, topic);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toBe(reason);
  });

  it("round-trips every builder through the parser", () => {
    const t = topicsFor(root);
    for (const id of ["a", "node-99", "x.y_z"]) {
      expect(parseTopic(root, t.telemetry(id))).toEqual({
        ok: true,
        topic: { kind: "telemetry", nodeId: id },
      });
      expect(parseTopic(root, t.birth(id))).toEqual({ ok: true, topic: { kind: "birth", nodeId: id } });
    }
  });
});

describe("node id conflicts", () => {
  it("builds and parses the conflict notice topic; it is not retained", () => {
    const t = topicsFor("k3s-fleet/v1");
    expect(t.nodeConflict("pi-01")).toBe("k3s-fleet/v1/coordinator/conflict/pi-01");
    expect(parseTopic("k3s-fleet/v1", t.nodeConflict("pi-01"))).toEqual({
      ok: true,
      topic: { kind: "nodeConflict", nodeId: "pi-01" },
    });
    expect(CONTRACT.nodeConflict).toMatchObject({ qos: 1, retain: false });
  });

  it("gives the agent a client id per install, the plain one without an install id", () => {
    expect(agentClientId("pi-01", "0123456789abcdef01234567")).toBe("k3s-fleet-agent.01234567.pi-01");
    expect(agentClientId("pi-01")).toBe("k3s-fleet-agent-pi-01");
  });
});
