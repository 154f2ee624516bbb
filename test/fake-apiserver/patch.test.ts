import { describe, expect, it } from "vitest";
import { applyJsonPatch, applyPatch, mergePatch } from "./patch.ts";
import type { ApiError } from "./status.ts";

const pod = {
  metadata: { name: "p", labels: { a: "1", b: "2" }, finalizers: ["x"] },
  spec: {
    containers: [
      { name: "c", image: "i:1" },
      { name: "d", image: "j:1" },
    ],
    tolerations: [{ key: "t" }],
  },
  status: {
    conditions: [
      { type: "Ready", status: "False" },
      { type: "PodScheduled", status: "True" },
    ],
  },
};

describe("JSON merge patch (RFC 7386)", () => {
  it("merges maps, deletes on null, replaces lists", () => {
    const out = mergePatch(pod, { metadata: { labels: { a: null, c: "3" } }, spec: { tolerations: [] } });
    expect(out).toMatchObject({ metadata: { labels: { b: "2", c: "3" } }, spec: { tolerations: [] } });
    expect((out as typeof pod).metadata.labels).not.toHaveProperty("a");
  });
});

describe("strategic merge patch", () => {
  const smp = (body: object) => applyPatch("application/strategic-merge-patch+json", pod, body) as typeof pod;

  it("merges conditions by type and containers by name", () => {
    const out = smp({
      status: { conditions: [{ type: "Ready", status: "True" }] },
      spec: { containers: [{ name: "d", image: "j:2" }] },
    });
    expect(out.status.conditions).toEqual([
      { type: "Ready", status: "True" },
      { type: "PodScheduled", status: "True" },
    ]);
    expect(out.spec.containers).toEqual([
      { name: "c", image: "i:1" },
      { name: "d", image: "j:2" },
    ]);
  });

  it("honours $patch: delete in merged lists and unions finalizers", () => {
    const out = smp({
      status: { conditions: [{ type: "Ready", $patch: "delete" }] },
      metadata: { finalizers: ["y"] },
    });
    expect(out.status.conditions).toEqual([{ type: "PodScheduled", status: "True" }]);
    expect(out.metadata.finalizers).toEqual(["x", "y"]);
  });

  it("replaces lists without a merge key", () => {
    expect(smp({ spec: { tolerations: [{ key: "u" }] } }).spec.tolerations).toEqual([{ key: "u" }]);
  });
});

describe("JSON patch (RFC 6902)", () => {
  it("applies add, replace, remove, test, move and copy", () => {
    const out = applyJsonPatch(pod, [
      { op: "test", path: "/metadata/name", value: "p" },
      { op: "add", path: "/metadata/labels/new~1key", value: "v" },
      { op: "replace", path: "/spec/containers/0/image", value: "i:2" },
      { op: "remove", path: "/metadata/labels/b" },
      { op: "add", path: "/spec/tolerations/-", value: { key: "u" } },
      { op: "copy", from: "/metadata/labels/a", path: "/metadata/labels/copied" },
      { op: "move", from: "/metadata/labels/copied", path: "/metadata/labels/moved" },
    ]) as typeof pod;
    expect(out.metadata.labels).toEqual({ a: "1", "new/key": "v", moved: "1" });
    expect(out.spec.containers[0]?.image).toBe("i:2");
    expect(out.spec.tolerations).toEqual([{ key: "t" }, { key: "u" }]);
    expect(pod.metadata.labels).toEqual({ a: "1", b: "2" }); // input untouched
  });

  it("answers a failed test or missing path with 422, like the apiserver", () => {
    for (const ops of [
      [{ op: "test", path: "/metadata/name", value: "q" }],
      [{ op: "remove", path: "/nope/x" }],
    ]) {
      try {
        applyJsonPatch(pod, ops);
        expect.unreachable();
      } catch (err) {
        expect((err as ApiError).status.code).toBe(422);
      }
    }
  });
});

it("rejects server-side apply and unknown patch types with 415", () => {
  try {
    applyPatch("application/apply-patch+yaml", pod, {});
    expect.unreachable();
  } catch (err) {
    expect((err as ApiError).status).toMatchObject({ code: 415, reason: "UnsupportedMediaType" });
  }
});
