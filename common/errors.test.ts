import { describe, expect, it } from "vitest";
import { ConfigError } from "../cli/config/load.ts";
import { KubeRequestError, SchedulingError } from "../coordinator/placement/errors.ts";
import { FleetError, isFleetError } from "./errors.ts";

describe("FleetError", () => {
  it("carries a code, a cause and the subclass's name", () => {
    const cause = new Error("disk full");
    const e = new SchedulingError("K3SF_ERR_SCHEDULING_STORE", "cannot write", { cause });
    expect(e).toBeInstanceOf(FleetError);
    expect(e).toMatchObject({ code: "K3SF_ERR_SCHEDULING_STORE", name: "SchedulingError", cause });
    expect(isFleetError(e, "K3SF_ERR_SCHEDULING_STORE")).toBe(true);
    expect(isFleetError(e, "K3SF_ERR_CONFIG")).toBe(false);
    expect(isFleetError(new Error("x"))).toBe(false);
  });

  it("is the base of the converted errors, which keep their own fields", () => {
    const config = new ConfigError(["a: bad"]);
    expect(isFleetError(config, "K3SF_ERR_CONFIG")).toBe(true);
    expect(config).toMatchObject({ name: "ConfigError", problems: ["a: bad"] });
    const kube = new KubeRequestError("bind", { status: 409, reason: "Conflict", message: "taken" });
    expect(isFleetError(kube, "K3SF_ERR_SCHEDULING_KUBE")).toBe(true);
    expect(kube).toMatchObject({ name: "KubeRequestError", status: 409, permanent: false });
  });
});
