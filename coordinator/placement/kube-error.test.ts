import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KubeRequestError } from "./errors.ts";
import { kubeError } from "./kube-error.ts";

describe("kubeError", () => {
  it("reads status and reason from client-node's ApiException (recognised without importing it)", () => {
    const body = JSON.stringify({ kind: "Status", reason: "Conflict", message: 'pods "p" already exists' });
    const e = kubeError("create pod default/p", new ApiException(409, "Conflict", body, {}));
    expect(e).toBeInstanceOf(KubeRequestError);
    expect(e).toMatchObject({ status: 409, reason: "Conflict", operation: "create pod default/p" });
    expect(e.message).toBe('create pod default/p: pods "p" already exists');
    expect(e.permanent).toBe(false);
  });

  it("an ApiException without a Status body says its HTTP code", () => {
    const e = kubeError("bind", new ApiException(500, "Internal", "", {}));
    expect(e).toMatchObject({ status: 500, reason: undefined, message: "bind: HTTP 500" });
  });

  it("a network error has no status; a KubeRequestError passes through unchanged", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
    const e = kubeError("read pod default/p", refused);
    expect(e).toMatchObject({
      status: undefined,
      message: "read pod default/p: connect ECONNREFUSED 127.0.0.1:6443",
    });
    expect(e.cause).toBe(refused);
    expect(kubeError("other", e)).toBe(e);
  });
});
