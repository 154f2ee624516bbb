import { describe, expect, it } from "vitest";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { ApiError } from "./status.ts";

const labels = { app: "web", tier: "front", "kubernetes.io/hostname": "n1", gen: "3" };

// Semantics of k8s.io/apimachinery/pkg/labels: != and notin also select objects without the key.
const labelTable: Array<[selector: string, on: Record<string, string> | undefined, selected: boolean]> = [
  ["", labels, true],
  ["app=web", labels, true],
  ["app==web", labels, true],
  ["app=db", labels, false],
  ["app!=db", labels, true],
  ["missing!=x", labels, true],
  ["app in (web,db)", labels, true],
  ["app in (db)", labels, false],
  ["app notin (db, cache)", labels, true],
  ["missing notin (a)", labels, true],
  ["missing in (a)", labels, false],
  ["app", labels, true],
  ["!app", labels, false],
  ["!missing", labels, true],
  ["app=web,tier=front", labels, true],
  ["app=web, tier=back", labels, false],
  ["kubernetes.io/hostname=n1", labels, true],
  ["gen>2", labels, true],
  ["gen<3", labels, false],
  ["app=web", undefined, false],
  ["!app", undefined, true],
];

describe("label selectors", () => {
  it.each(labelTable)("%s on %j → %s", (selector, on, selected) => {
    expect(parseLabelSelector(selector)(on)).toBe(selected);
  });

  it.each(["app=we b", "=x", "app in (a b)", "gen>x", "-bad-=x"])("rejects %j with a 400", (selector) => {
    const error = (() => {
      try {
        parseLabelSelector(selector);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toMatchObject({ code: 400, reason: "BadRequest" });
  });
});

describe("field selectors", () => {
  const supported = ["metadata.name", "spec.nodeName", "status.phase"];
  const fields = { "metadata.name": "p1", "spec.nodeName": "", "status.phase": "Pending" };

  it.each([
    ["", true],
    ["metadata.name=p1", true],
    ["metadata.name==p1", true],
    ["metadata.name!=p1", false],
    ["spec.nodeName=", true],
    ["spec.nodeName!=", false],
    ["status.phase=Pending,spec.nodeName=", true],
    ["status.phase!=Succeeded,status.phase!=Failed", true],
  ])("%s → %s", (selector, selected) => {
    expect(parseFieldSelector(selector, supported)(fields)).toBe(selected);
  });

  it("rejects unsupported fields like the apiserver", () => {
    expect(() => parseFieldSelector("spec.foo=bar", supported)).toThrow(
      "field label not supported: spec.foo",
    );
  });
});
