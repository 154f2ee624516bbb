// Where the real Kubernetes components built by scripts/build-kube.sh are, and whether a test can use them.
// Like toolAvailable() for mosquitto: missing binaries skip the tests with the reason printed, unless CI set
// K3SF_REQUIRE_TOOLS=1, which turns the skip into a failure.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasTool } from "./tools.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface KubeBinaries {
  kubeApiserver: string;
  etcd: string;
  kubectl: string;
  kwok: string;
  /** kwok's default Stages, copied from its module by the build script. */
  kwokStages: string;
}

/** `$K3SF_KUBE_DIR/bin` or `.cache/kube/bin`, as the build script writes them. */
export function kubeBinDir(): string {
  return join(process.env.K3SF_KUBE_DIR ?? join(ROOT, ".cache/kube"), "bin");
}

export function kubeBinaries(dir = kubeBinDir()): KubeBinaries {
  return {
    kubeApiserver: join(dir, "kube-apiserver"),
    etcd: join(dir, "etcd"),
    kubectl: join(dir, "kubectl"),
    kwok: join(dir, "kwok"),
    kwokStages: join(dir, "..", "kwok-stages.yaml"),
  };
}

const executable = (path: string): boolean => {
  try {
    accessSync(path, path.endsWith(".yaml") ? constants.R_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Why the real API server cannot run here, or undefined when it can. */
export function missingKubeBinaries(bins = kubeBinaries()): string | undefined {
  const missing = Object.values(bins).filter((p) => !executable(p));
  if (missing.length === 0) return undefined;
  const go = hasTool("go") || executable("/usr/local/go/bin/go");
  return go
    ? `real Kubernetes binaries not built (${missing.join(", ")}): run scripts/build-kube.sh`
    : `no Go toolchain to build the real Kubernetes binaries (${missing.join(", ")} missing)`;
}

/** True when the real API server can run; otherwise prints why (or throws when CI requires tools). */
export function realApiServerAvailable(): boolean {
  const reason = missingKubeBinaries();
  if (reason === undefined) return true;
  if (process.env.K3SF_REQUIRE_TOOLS) throw new Error(reason);
  console.warn(`skipping the real API server tests: ${reason}`);
  return false;
}
