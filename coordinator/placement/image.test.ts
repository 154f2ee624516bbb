import { describe, expect, it } from "vitest";
import { imageAllowed, parseImage } from "./image.ts";

describe("parseImage", () => {
  it.each([
    ["nginx", "docker.io", "library/nginx"],
    ["nginx:1.27", "docker.io", "library/nginx"],
    ["docker.io/nginx:latest", "docker.io", "library/nginx"],
    ["index.docker.io/library/nginx:1.27", "docker.io", "library/nginx"],
    ["index.docker.io/nginx", "docker.io", "library/nginx"],
    ["acme/app:v1", "docker.io", "acme/app"],
    ["ghcr.io/acme/app:v1", "ghcr.io", "acme/app"],
    ["registry.local:5000/team/app", "registry.local:5000", "team/app"],
    ["localhost/app", "localhost", "app"],
    [`nginx@sha256:${"a".repeat(64)}`, "docker.io", "library/nginx"],
    ["Quay.IO/org/app", "quay.io", "org/app"],
  ])("%s → %s/%s", (image, registry, path) => {
    expect(parseImage(image)).toEqual({ registry, path, name: `${registry}/${path}` });
  });

  it.each([
    ["", "image is empty"],
    ["Nginx", "is not a valid reference"],
    ["nginx:bad tag", "invalid tag"],
    ["nginx@sha256:xyz", "invalid digest"],
    ["a".repeat(600), "longer than 512"],
    ["ghcr.io//app", "is not a valid reference"],
  ])("refuses %j (%s)", (image, reason) => {
    expect(parseImage(image)).toContain(reason);
  });
});

describe("imageAllowed", () => {
  const ref = (image: string) => {
    const r = parseImage(image);
    if (typeof r === "string") throw new Error(r);
    return r;
  };
  it.each([
    ["nginx", ["docker.io/library"], true],
    ["acme/app", ["docker.io/library"], false],
    ["ghcr.io/acme/app", ["ghcr.io/acme"], true],
    ["ghcr.io/acmecorp/app", ["ghcr.io/acme"], false],
    ["ghcr.io/acme/app", ["ghcr.io/acme/"], true],
    ["nginx", ["index.docker.io/library"], true],
    ["index.docker.io/library/nginx", ["docker.io/library"], true],
    ["anything.example/x", ["*"], true],
    ["nginx", [], false],
    ["ghcr.io/acme/app", ["ghcr.io"], true],
  ] as const)("%s with %j → %s", (image, allowed, expected) => {
    expect(imageAllowed(ref(image), allowed)).toBe(expected);
  });
});
