// External tools some tests need (Debian's mosquitto, protoc). Where one is missing the test skips and says why;
// CI sets K3SF_REQUIRE_TOOLS=1 so a missing tool fails the run instead of silently skipping.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export function hasTool(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** True when the tool is there; otherwise prints the reason (or throws when CI requires tools). */
export function toolAvailable(name: string, debianPackage: string): boolean {
  if (hasTool(name)) return true;
  const reason = `${name} not found: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`;
  if (process.env.K3SF_REQUIRE_TOOLS) throw new Error(reason);
  console.warn(`skipping: ${reason}`);
  return false;
}

/** protoc plus the well-known types fleet.proto imports (Debian ships them in libprotobuf-dev). */
export function protocAvailable(): boolean {
  if (!toolAvailable("protoc", "protobuf-compiler")) return false;
  if (existsSync("/usr/include/google/protobuf/timestamp.proto")) return true;
  const reason = "google/protobuf/timestamp.proto not found: install the Debian package libprotobuf-dev";
  if (process.env.K3SF_REQUIRE_TOOLS) throw new Error(reason);
  console.warn(`skipping: ${reason}`);
  return false;
}
