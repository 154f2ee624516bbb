// Container image references, normalised the way the container runtime resolves them (distribution's
// reference.ParseNormalizedNamed): "nginx" is docker.io/library/nginx, "acme/app" is docker.io/acme/app, and
// the first path component is a registry only when it has a '.' or ':' or is "localhost". Pure.

export interface ImageReference {
  /** Registry host[:port], e.g. "docker.io", "ghcr.io", "registry.local:5000". */
  readonly registry: string;
  /** Repository path without the registry, e.g. "library/nginx". */
  readonly path: string;
  /** registry + "/" + path: what allowed-registry prefixes are matched against. */
  readonly name: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;
export const MAX_IMAGE_LENGTH = 512;

/** The normalised reference, or a reason the string is not an image reference. */
export function parseImage(image: string): ImageReference | string {
  if (image.length === 0) return "image is empty";
  if (image.length > MAX_IMAGE_LENGTH) return `image is longer than ${MAX_IMAGE_LENGTH} characters`;
  let rest = image;
  const at = rest.indexOf("@");
  if (at >= 0) {
    if (!DIGEST.test(rest.slice(at + 1))) return `image ${JSON.stringify(image)} has an invalid digest`;
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf("/");
  const first = slash < 0 ? "" : rest.slice(0, slash);
  const isHost = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  let registry = "docker.io";
  if (isHost) {
    if (!HOST.test(first)) return `image ${JSON.stringify(image)} has an invalid registry host`;
    // Docker's legacy name for Docker Hub (reference.ParseNormalizedNamed: legacyDefaultDomain).
    registry = first.toLowerCase() === "index.docker.io" ? "docker.io" : first.toLowerCase();
    rest = rest.slice(slash + 1);
  }
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    if (!TAG.test(rest.slice(colon + 1))) return `image ${JSON.stringify(image)} has an invalid tag`;
    rest = rest.slice(0, colon);
  }
  const components = rest.split("/");
  if (!components.every((c) => COMPONENT.test(c)))
    return `image ${JSON.stringify(image)} is not a valid reference (lowercase repository path expected)`;
  const path = registry === "docker.io" && components.length === 1 ? `library/${rest}` : rest;
  return { registry, path, name: `${registry}/${path}` };
}

/**
 * Whether `ref` is under one of `allowed`: "*" allows everything; otherwise an entry matches the whole
 * name or a prefix ending at a path boundary ("ghcr.io/acme" allows ghcr.io/acme/app, not ghcr.io/acmecorp).
 * "index.docker.io" and "docker.io" are the same registry.
 */
export function imageAllowed(ref: ImageReference, allowed: readonly string[]): boolean {
  const name = ref.name;
  for (const raw of allowed) {
    const entry = raw
      .trim()
      .replace(/\/+$/, "")
      .replace(/^index\.docker\.io(\/|$)/, "docker.io$1");
    if (entry === "*") return true;
    if (entry === "") continue;
    if (name === entry || name.startsWith(`${entry}/`)) return true;
  }
  return false;
}
