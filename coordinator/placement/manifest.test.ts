import { describe, expect, it } from "vitest";
import { podManifest, requestIdOf } from "./manifest.ts";
import type { ValidRequest } from "./policy.ts";

const valid: ValidRequest = {
  requestId: "r1",
  replyTo: "k3s-fleet/v1/schedule/reply/c",
  podName: "web",
  namespace: "apps",
  image: "nginx:1.27",
  requests: { cpu: "500m", memory: "512Mi" },
  limits: { cpu: "1", memory: "" },
  labels: { app: "web" },
  nodeSelector: { zone: "north" },
  tolerations: [{ key: "edge", operator: "Exists", effect: "NoSchedule" }],
  dryRun: false,
};

describe("podManifest", () => {
  it("builds the pod: our scheduler, one container, the request's placement fields and nothing else", () => {
    expect(podManifest(valid, "k3s-fleet")).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "web",
        namespace: "apps",
        labels: { app: "web", "app.kubernetes.io/managed-by": "k3s-fleet" },
        annotations: { "k3s-fleet.io/request-id": "r1" },
      },
      spec: {
        schedulerName: "k3s-fleet",
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        containers: [
          {
            name: "main",
            image: "nginx:1.27",
            resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1" } },
          },
        ],
        nodeSelector: { zone: "north" },
        tolerations: [{ key: "edge", operator: "Exists", effect: "NoSchedule" }],
      },
    });
  });

  it("omits empty selectors and tolerations, and reads the request id back", () => {
    const pod = podManifest({ ...valid, nodeSelector: {}, tolerations: [] }, "s");
    expect(pod.spec.nodeSelector).toBeUndefined();
    expect(pod.spec.tolerations).toBeUndefined();
    expect(requestIdOf(pod)).toBe("r1");
    expect(requestIdOf({ metadata: {} })).toBeUndefined();
  });
});
