import { describe, expect, it } from "vitest";
import { createMessage, type MessageInit } from "../../proto/index.ts";
import { testSchedulingSettings } from "../../test/support/scheduling-settings.ts";
import { checkRequest, replyTopicProblem } from "./policy.ts";
import { resolveSettings } from "./settings.ts";

const root = "k3s-fleet/v1";
const settings = resolveSettings(testSchedulingSettings());
const request = (init: MessageInit<"scheduleRequest"> = {}) =>
  createMessage("scheduleRequest", {
    requestId: "r1",
    replyTo: `${root}/schedule/reply/cli-1`,
    podName: "web",
    image: "nginx:1.27",
    cpuRequest: "500m",
    memoryRequest: "512Mi",
    ...init,
  });

describe("replyTopicProblem", () => {
  it.each([
    [`${root}/schedule/reply/cli-1`, undefined],
    ["", "reply_to is empty"],
    ["elsewhere/reply/x", "reply_to must be a topic under k3s-fleet/v1/schedule/reply/"],
    [`${root}/coordinator/report`, "reply_to must be a topic under"],
    [`${root}/schedule/reply/`, "client id is empty"],
    [`${root}/schedule/reply/a/b`, "contains one of the MQTT characters"],
    [`${root}/schedule/reply/#`, "contains one of the MQTT characters"],
    [`${root}/schedule/reply/+`, "contains one of the MQTT characters"],
  ])("%j → %j", (topic, problem) => {
    const found = replyTopicProblem(root, topic);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe("checkRequest", () => {
  it("accepts a valid request, filling in the default namespace and leaving limits unset", () => {
    const result = checkRequest(request(), settings);
    expect(result).toEqual({
      ok: true,
      request: {
        requestId: "r1",
        replyTo: `${root}/schedule/reply/cli-1`,
        podName: "web",
        namespace: "default",
        image: "nginx:1.27",
        requests: { cpu: "500m", memory: "512Mi" },
        limits: { cpu: "", memory: "" },
        labels: {},
        nodeSelector: {},
        tolerations: [],
        dryRun: false,
      },
    });
  });

  it("normalises tolerations (empty operator is Equal)", () => {
    const result = checkRequest(
      request({
        tolerations: [
          { key: "edge", value: "true", effect: "NoSchedule" },
          { key: "gpu", operator: "Exists" },
        ],
      }),
      settings,
    );
    expect(result.ok && result.request.tolerations).toEqual([
      { key: "edge", operator: "Equal", value: "true", effect: "NoSchedule" },
      { key: "gpu", operator: "Exists" },
    ]);
  });

  it.each<[MessageInit<"scheduleRequest">, string]>([
    [{ requestId: "" }, "request_id is empty"],
    [{ requestId: "x".repeat(129) }, "request_id is longer than 128"],
    [{ requestId: "a\nb" }, "control character"],
    [{ podName: "" }, "pod_name is required"],
    [{ podName: "UPPER" }, "is not a valid pod name"],
    [{ namespace: "kube-system" }, 'namespace "kube-system" is not allowed (allowed: default)'],
    [{ namespace: "Bad_NS" }, "is not a valid namespace name"],
    [{ image: "" }, "image is required"],
    [{ image: "quay.io/x/y" }, "(quay.io/x/y) is not from an allowed registry (allowed: docker.io/library)"],
    [{ cpuRequest: "" }, "cpu_request is required"],
    [{ memoryRequest: "" }, "memory_request is required"],
    [{ cpuRequest: "5" }, "cpu_request 5 exceeds the maximum 4"],
    [{ memoryRequest: "9Gi" }, "memory_request 9Gi exceeds the maximum 8Gi"],
    [{ cpuLimit: "4001m" }, "cpu_limit 4001m exceeds the maximum 4"],
    [{ cpuRequest: "1", cpuLimit: "500m" }, "cpu_request 1 is greater than cpu_limit 500m"],
    [{ cpuRequest: "-1" }, 'cpu_request "-1" is negative'],
    [{ memoryRequest: "1 GB" }, "is not a Kubernetes quantity"],
    [{ labels: { "bad key!": "x" } }, "is not a valid label key"],
    [{ labels: { app: "-bad" } }, "is not a valid label value"],
    [{ labels: { "k3s-fleet.io/owner": "me" } }, "is reserved for the coordinator"],
    [{ nodeSelector: { zone: "a b" } }, "node_selector: value"],
    [{ tolerations: [{ key: "" }] }, "tolerating every taint is not allowed"],
    [
      { tolerations: [{ key: "k", operator: "Exists", value: "v" }] },
      "value must be empty when operator is Exists",
    ],
    [{ tolerations: [{ key: "k", operator: "Gt" }] }, "operator must be Equal or Exists"],
    [{ tolerations: [{ key: "k", effect: "Sometimes" }] }, "effect must be"],
    [
      {
        tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
      },
      "is a taint Kubernetes sets (a cordon",
    ],
    [
      { tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }] },
      "not tolerable",
    ],
  ])("refuses %j: %s", (init, reason) => {
    const result = checkRequest(request(init), settings);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.reason).toContain(reason);
  });

  it("lists every problem, not just the first", () => {
    const result = checkRequest(
      request({ podName: "", namespace: "kube-system", cpuRequest: "9" }),
      settings,
    );
    expect(result.ok ? "" : result.reason).toBe(
      'pod_name is required; namespace "kube-system" is not allowed (allowed: default); cpu_request 9 exceeds the maximum 4',
    );
  });

  it("follows the configured namespaces, registries and maxima", () => {
    const custom = resolveSettings({
      ...testSchedulingSettings(),
      defaultNamespace: "apps",
      allowedNamespaces: ["apps", "edge"],
      allowedRegistries: ["ghcr.io/acme"],
      maxCpu: "500m",
      maxMemory: "256Mi",
    });
    expect(
      checkRequest(request({ image: "ghcr.io/acme/app", cpuRequest: "250m", memoryRequest: "64Mi" }), custom),
    ).toMatchObject({
      ok: true,
      request: { namespace: "apps" },
    });
    expect(
      checkRequest(
        request({ namespace: "edge", image: "ghcr.io/acme/app", cpuRequest: "500m", memoryRequest: "64Mi" }),
        custom,
      ).ok,
    ).toBe(true);
    expect(
      checkRequest(
        request({ namespace: "edge", image: "ghcr.io/acme/app", cpuRequest: "600m", memoryRequest: "64Mi" }),
        custom,
      ),
    ).toMatchObject({
      ok: false,
      reason: "cpu_request 600m exceeds the maximum 500m",
    });
    expect(checkRequest(request({ image: "nginx", cpuRequest: "1m", memoryRequest: "1Mi" }), custom).ok).toBe(
      false,
    );
    expect(
      checkRequest(
        request({ namespace: "default", image: "ghcr.io/acme/a", cpuRequest: "1m", memoryRequest: "1Mi" }),
        custom,
      ),
    ).toMatchObject({
      ok: false,
      reason: 'namespace "default" is not allowed (allowed: apps, edge)',
    });
  });
});

describe("expiredProblem", () => {
  it("refuses a request whose deadline has passed, and only that", async () => {
    const { expiredProblem } = await import("./policy.ts");
    const { timestamp } = await import("../../proto/index.ts");
    const at = Date.UTC(2026, 11, 7, 3, 0, 0);
    expect(expiredProblem(request(), at)).toBeUndefined();
    expect(expiredProblem(request({ deadline: timestamp(at + 1) }), at)).toBeUndefined();
    expect(expiredProblem(request({ deadline: timestamp(at) }), at)).toBeUndefined();
    expect(expiredProblem(request({ deadline: timestamp(at - 2_500) }), at)).toBe(
      "request expired at 2026-12-07T02:59:57.500Z (received 2.5 s later)",
    );
  });
});
