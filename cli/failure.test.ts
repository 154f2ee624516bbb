import { describe, expect, it } from "vitest";
import { FleetError } from "../common/errors.ts";
import { describeFailure } from "./failure.ts";

describe("describeFailure", () => {
  it("a coded error says its cause in the same line (a read-only state dir, a file error)", () => {
    const sqlite = Object.assign(new Error("attempt to write a readonly database"), {
      code: "ERR_SQLITE_ERROR",
    });
    const store = new FleetError("K3SF_ERR_SCHEDULING_STORE", "cannot open scheduling store /ro/s.sqlite", {
      cause: sqlite,
    });
    expect(describeFailure(store)).toBe(
      "cannot open scheduling store /ro/s.sqlite: attempt to write a readonly database",
    );
    const fs = Object.assign(new Error("EROFS: read-only file system, open '/ro/x'"), { code: "EROFS" });
    expect(describeFailure(new FleetError("K3SF_ERR_X", "cannot write /ro/x", { cause: fs }))).toBe(
      "cannot write /ro/x: read-only file system",
    );
  });

  it("leaves out causes that are dumps (multi-line, long) and says nothing twice", () => {
    const dump = new Error(`[\n  {"code": "custom"}\n]`);
    expect(describeFailure(new FleetError("K3SF_ERR_X", "invalid", { cause: dump }))).toBe("invalid");
    const same = new FleetError("K3SF_ERR_X", "cannot connect: ECONNREFUSED", {
      cause: new Error("ECONNREFUSED"),
    });
    expect(describeFailure(same)).toBe("cannot connect: ECONNREFUSED");
  });
});
