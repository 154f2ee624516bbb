import { describe, expect, it } from "vitest";
import { QuantityError } from "./errors.ts";
import type { Container, Pod } from "./k8s-types.ts";
import { podResources } from "./pod-requests.ts";

const c = (requests: Record<string, string>, restartPolicy?: string): Container =>
  restartPolicy === undefined ? { resources: { requests } } : { resources: { requests }, restartPolicy };
const pod = (
  containers: Container[],
  initContainers: Container[] = [],
  overhead?: Record<string, string>,
): Pod => ({
  spec: { containers, initContainers, ...(overhead ? { overhead } : {}) },
});
const MI = 1024n * 1024n;

describe("podResources: effective request (component-helpers resource PodRequests)", () => {
  // Cases from k8s component-helpers/resource/helpers_test.go TestPodResourceRequests (CPU in cores).
  const cpuCases: Array<[string, Pod, bigint]> = [
    ["restartable init container", pod([c({ cpu: "1" })], [c({ cpu: "1" }, "Always")]), 2000n],
    [
      "multiple restartable init containers: max(5, 3+2+1 + 1) = 7",
      pod(
        [c({ cpu: "1" })],
        [c({ cpu: "5" }), c({ cpu: "1" }, "Always"), c({ cpu: "2" }, "Always"), c({ cpu: "3" }, "Always")],
      ),
      7000n,
    ],
    [
      "multiple restartable and regular init containers: init-2 5 + running sidecars 1+2 = 8",
      pod(
        [c({ cpu: "1" })],
        [
          c({ cpu: "5" }),
          c({ cpu: "1" }, "Always"),
          c({ cpu: "2" }, "Always"),
          c({ cpu: "5" }),
          c({ cpu: "3" }, "Always"),
        ],
      ),
      8000n,
    ],
    [
      "restartable-init, init and regular: 210",
      pod([c({ cpu: "100" })], [c({ cpu: "10" }, "Always"), c({ cpu: "200" })]),
      210000n,
    ],
    ["containers sum", pod([c({ cpu: "1" }), c({ cpu: "2" })]), 3000n],
    ["no containers", pod([]), 0n],
  ];
  it.each(cpuCases)("%s", (_name, p, milli) => {
    expect(podResources(p).cpu).toBe(milli);
  });

  it("takes the element-wise max with init containers (fit.go computePodResourceRequest example)", () => {
    // IC1 2/1G, IC2 2/3G, C1 2/1G, C2 1/1G → CPU 3, Memory 3G
    const r = podResources(
      pod(
        [c({ cpu: "2", memory: "1G" }), c({ cpu: "1", memory: "1G" })],
        [c({ cpu: "2", memory: "1G" }), c({ cpu: "2", memory: "3G" })],
      ),
    );
    expect(r.cpu).toBe(3000n);
    expect(r.memory).toBe(3_000_000_000n);
  });

  it("adds overhead after the max", () => {
    const r = podResources(
      pod([c({ cpu: "500m", memory: "128Mi" })], [c({ cpu: "2" })], { cpu: "250m", memory: "64Mi" }),
    );
    expect(r.cpu).toBe(2250n);
    expect(r.memory).toBe(192n * MI);
  });

  it("sums exactly and rounds only the pod total up (0.5m + 0.5m = 1m, not 2m)", () => {
    expect(podResources(pod([c({ cpu: "0.5m" }), c({ cpu: "0.5m" })])).cpu).toBe(1n);
    expect(podResources(pod([c({ memory: "0.5" }), c({ memory: "0.5" })])).memory).toBe(1n);
    expect(podResources(pod([c({ memory: "100.035Ki" })])).memory).toBe(102436n);
  });

  it("collects ephemeral storage and extended resources; ignores unknown unprefixed names", () => {
    const r = podResources(
      pod([c({ "ephemeral-storage": "1Gi", "nvidia.com/gpu": "2", "hugepages-2Mi": "4Mi", storage: "1" })]),
    );
    expect(r.ephemeralStorage).toBe(1024n * MI);
    expect([...r.scalars]).toEqual([
      ["hugepages-2Mi", 4n * MI],
      ["nvidia.com/gpu", 2n],
    ]);
  });

  describe("non-zero scoring defaults (pkg/scheduler/util DefaultMilliCPURequest/DefaultMemoryRequest)", () => {
    it("applies 100m / 200Mi per container that sets no request", () => {
      const r = podResources(pod([{}, c({ cpu: "1" })]));
      expect(r.cpu).toBe(1000n);
      expect(r.memory).toBe(0n);
      expect(r.nonZeroCpu).toBe(1100n);
      expect(r.nonZeroMemory).toBe(400n * MI);
    });
    it("keeps an explicit zero (only a missing key gets the default)", () => {
      const r = podResources(pod([c({ cpu: "3", memory: "0" })]));
      expect(r.nonZeroCpu).toBe(3000n);
      expect(r.nonZeroMemory).toBe(0n);
    });
    it("applies to init containers too, and adds overhead", () => {
      const r = podResources(pod([c({ cpu: "50m", memory: "10Mi" })], [{}], { cpu: "10m" }));
      expect(r.nonZeroCpu).toBe(110n);
      expect(r.nonZeroMemory).toBe(200n * MI);
      expect(r.cpu).toBe(60n);
    });
    it("gives a pod without containers zero, as kube-scheduler does", () => {
      const r = podResources(pod([]));
      expect(r.nonZeroCpu).toBe(0n);
      expect(r.nonZeroMemory).toBe(0n);
    });
  });

  it("rejects invalid or negative quantities with a coded error naming the field", () => {
    expect(() => podResources(pod([c({ cpu: "one" })]))).toThrow(QuantityError);
    expect(() => podResources(pod([c({ cpu: "one" })]))).toThrow(/containers\[0\]\.resources\.requests\.cpu/);
    expect(() => podResources(pod([c({ memory: "-1Gi" })]))).toThrow(/must be greater than or equal to 0/);
  });
});
