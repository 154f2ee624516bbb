import { describe, expect, it } from "vitest";
import { topicsFor } from "../../../proto/topics.ts";
import {
  defaultAgentClientId,
  defaultClientIdProblem,
  defaultGrants,
  filterCovers,
  mayPublish,
  maySubscribe,
  type Principal,
  topicMatches,
} from "./policy.ts";

const ROOT = "fleet/v9"; // not the default: grants must follow the configured root
const t = topicsFor(ROOT);

describe("topicMatches", () => {
  it.each([
    ["a/b", "a/b", true],
    ["a/+", "a/b", true],
    ["a/+", "a/b/c", false],
    ["a/#", "a", true], // `#` also matches the parent level
    ["a/#", "a/b/c", true],
    ["+/b", "a/b", true],
    ["#", "$SYS/x", false], // [MQTT-4.7.2-1]
    ["+/x", "$SYS/x", false],
    ["$SYS/#", "$SYS/x", true],
    ["a/b", "a/+", false], // a wildcard is never a concrete topic
    ["a/b", "a/b/", false],
  ])("%s matches %s: %s", (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe("filterCovers", () => {
  it.each([
    ["a/+/+", "a/+/+", true],
    ["a/+/+", "a/x/+", true],
    ["a/+/+", "a/x/y", true],
    ["a/+/+", "a/#", false],
    ["a/+/+", "a/x/#", false],
    ["a/+/+", "a/+", false],
    ["a/#", "a/#", true],
    ["a/#", "a/x/+/#", true],
    ["a/#", "a", true],
    ["a/#", "#", false],
    ["a/b", "a/+", false],
    ["a/b", "+/b", false],
    ["#", "$SYS/#", false],
    ["$SYS/#", "$SYS/broker/+", true],
  ])("%s covers %s: %s", (allowed, requested, expected) => {
    expect(filterCovers(allowed, requested)).toBe(expected);
  });
});

const node: Principal = { kind: "user", username: "u-a", role: "node", nodeId: "a" };
const scheduler: Principal = { kind: "user", username: "s", role: "scheduler" };
const coordinator: Principal = { kind: "user", username: "c", role: "coordinator" };
const viewer: Principal = { kind: "user", username: "v", role: "viewer" };
const anonymous: Principal = { kind: "anonymous" };

describe("defaultGrants: the role table", () => {
  const publish: [string, Principal, string, boolean][] = [
    ["node: own birth", node, t.birth("a"), true],
    ["node: own telemetry", node, t.telemetry("a"), true],
    ["node: own status", node, t.nodeStatus("a"), true],
    ["node: another node's telemetry", node, t.telemetry("b"), false],
    ["node: its username is not its node id", node, t.telemetry("u-a"), false],
    ["node: a schedule request", node, t.scheduleRequest, false],
    ["node: coordinator status", node, t.coordinatorStatus, false],
    ["node: under another root", node, `k3s-fleet/v1/node/a/telemetry`, false],
    ["scheduler: a schedule request", scheduler, t.scheduleRequest, true],
    ["scheduler: a decision", scheduler, t.scheduleReply("s-1"), false],
    ["scheduler: a report", scheduler, t.report, false],
    ["coordinator: status", coordinator, t.coordinatorStatus, true],
    ["coordinator: report", coordinator, t.report, true],
    ["coordinator: a decision", coordinator, t.scheduleReply("anyone"), true],
    ["coordinator: a decision two levels down", coordinator, `${t.scheduleReply("x")}/y`, false],
    ["coordinator: node telemetry", coordinator, t.telemetry("a"), false],
    ["coordinator: a schedule request", coordinator, t.scheduleRequest, false],
    ["coordinator: $SYS", coordinator, "$SYS/x", false],
    ["viewer: anything", viewer, t.report, false],
    ["anonymous: anything", anonymous, "whatever/topic", true],
    ["anonymous: $SYS", anonymous, "$SYS/broker/x", false],
  ];
  it.each(publish)("publish %s", (_name, who, topic, expected) => {
    expect(mayPublish(defaultGrants(who, "s-1", t), topic)).toBe(expected);
  });

  const subscribe: [string, Principal, string, boolean][] = [
    ["node: coordinator status", node, t.coordinatorStatus, true],
    ["node: the report", node, t.report, false],
    ["node: other nodes", node, t.filters.allNodes, false],
    ["node: its own topics", node, t.telemetry("a"), false],
    ["node: its own conflict notices", node, t.nodeConflict("a"), true],
    ["node: another node's conflict notices", node, t.nodeConflict("b"), false],
    ["scheduler: its reply topic", scheduler, t.scheduleReply("s-1"), true],
    ["scheduler: another client's replies", scheduler, t.scheduleReply("s-2"), false],
    ["scheduler: all replies", scheduler, `${ROOT}/schedule/reply/+`, false],
    ["scheduler: coordinator/#", scheduler, `${ROOT}/coordinator/#`, true],
    ["scheduler: node telemetry", scheduler, t.filters.allTelemetry, false],
    ["coordinator: all node topics", coordinator, t.filters.allNodes, true],
    ["coordinator: all telemetry", coordinator, t.filters.allTelemetry, true],
    ["coordinator: node/#", coordinator, `${ROOT}/node/#`, false],
    ["coordinator: schedule requests", coordinator, t.scheduleRequest, true],
    ["coordinator: its own status", coordinator, t.coordinatorStatus, true],
    ["coordinator: decisions", coordinator, `${ROOT}/schedule/reply/+`, false],
    ["coordinator: #", coordinator, "#", false],
    ["viewer: all node topics", viewer, t.filters.allNodes, true],
    ["viewer: the report", viewer, t.report, true],
    ["viewer: schedule requests", viewer, t.scheduleRequest, false],
    ["anonymous: #", anonymous, "#", true],
    ["anonymous: $SYS/#", anonymous, "$SYS/#", true],
  ];
  it.each(subscribe)("subscribe %s", (_name, who, filter, expected) => {
    expect(maySubscribe(defaultGrants(who, "s-1", t), filter)).toBe(expected);
  });

  it("a scheduler whose client id is not a topic level gets no reply topic at all", () => {
    for (const clientId of ["#", "+", "a/b", ""]) {
      const grants = defaultGrants(scheduler, clientId, t);
      expect(grants.subscribe).toEqual([`${ROOT}/coordinator/#`]);
      expect(maySubscribe(grants, `${ROOT}/schedule/reply/#`)).toBe(false);
    }
  });
});

describe("defaultClientIdProblem", () => {
  const context = {
    reserved: new Map([
      ["a", "u-a"],
      [defaultAgentClientId("a"), "u-a"],
      ["b", "u-b"],
      [defaultAgentClientId("b"), "u-b"],
    ]),
    agentClientId: defaultAgentClientId,
  };
  it.each([
    [node, "a", undefined],
    [node, "k3s-fleet-agent-a", undefined],
    [node, "k3s-fleet-agent.0123abcd.a", undefined],
    [node, "k3s-fleet-agent.0123abcd.b", 'node a must connect as "a" or "k3s-fleet-agent-a"'],
    [node, "k3s-fleet-agent.0123abcd.a.b", 'node a must connect as "a" or "k3s-fleet-agent-a"'],
    [node, "k3s-fleet-agent-b", 'node a must connect as "a" or "k3s-fleet-agent-a"'],
    [node, "mqttjs_1234", 'node a must connect as "a" or "k3s-fleet-agent-a"'],
    [scheduler, "k3s-fleet-schedule-1", undefined],
    [scheduler, "k3s-fleet-agent-b", "client id is reserved for node user u-b"],
    [viewer, "b", "client id is reserved for node user u-b"],
    [coordinator, "k3s-fleet-coordinator", undefined],
    [
      scheduler,
      "x/y",
      "client id is not a valid topic level: client id \"x/y\" contains one of the MQTT characters '+', '#', '/'",
    ],
    [anonymous, "x/y", undefined],
  ] as const)("%o as %s", (who, clientId, expected) => {
    expect(defaultClientIdProblem(who, clientId, context)).toBe(expected);
  });
});
