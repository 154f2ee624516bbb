// What the apiserver adds to a pod on its way in: defaulting (pkg/apis/core/v1/defaults.go), the
// DefaultTolerationSeconds and Priority admission plugins, and podStrategy.PrepareForCreate's status
// (phase Pending, qosClass). A scheduler sees these fields on every real pod, so the fake adds them too.
import { isObject, type JsonObject, type KubeObject } from "./types.ts";

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Approximate numeric value of a quantity string; enough to compare requests with limits. */
export function quantityValue(quantity: unknown): number {
  const m = /^([+-]?[0-9.]+)(?:([eE][-+]?[0-9]+)|([a-zA-Z]*))$/.exec(String(quantity).trim());
  if (!m) return Number.NaN;
  if (m[2]) return Number(`${m[1]}${m[2]}`);
  return Number(m[1]) * (SUFFIX[m[3] ?? ""] ?? Number.NaN);
}

function containersOf(spec: JsonObject): JsonObject[] {
  const all = [...(Array.isArray(spec.containers) ? spec.containers : [])];
  if (Array.isArray(spec.initContainers)) all.push(...spec.initContainers);
  return all.filter(isObject);
}

function defaultContainer(c: JsonObject): void {
  const image = typeof c.image === "string" ? c.image : "";
  const tagged = /:[^/]+$/.test(image.split("@")[0] ?? "") && !image.endsWith(":latest");
  c.imagePullPolicy ??= tagged || image.includes("@") ? "IfNotPresent" : "Always";
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  const resources: JsonObject = isObject(c.resources) ? c.resources : {};
  // SetDefaults_Pod: a container with limits but no requests requests its limits.
  if (isObject(resources.limits)) {
    const requests: JsonObject = isObject(resources.requests) ? resources.requests : {};
    for (const [name, value] of Object.entries(resources.limits)) requests[name] ??= value;
    resources.requests = requests;
  }
  c.resources = resources;
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObject(p)) p.protocol ??= "TCP";
}

/** Defaulting plus the DefaultTolerationSeconds and Priority admission plugins. */
export function defaultPod(pod: KubeObject): void {
  const spec: JsonObject = isObject(pod.spec) ? pod.spec : {};
  pod.spec = spec;
  for (const c of containersOf(spec)) defaultContainer(c);
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.securityContext ??= {};
  spec.schedulerName ??= "default-scheduler";
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= "PreemptLowerPriority";
  const tolerations = Array.isArray(spec.tolerations) ? spec.tolerations.filter(isObject) : [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const tolerated = tolerations.some(
      (t) =>
        (t.key === key || (!t.key && t.operator === "Exists")) && (!t.effect || t.effect === "NoExecute"),
    );
    if (!tolerated)
      tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
}

/** qos.GetPodQOS: BestEffort without any request/limit, Guaranteed when cpu+memory limits equal requests. */
export function podQosClass(pod: KubeObject): string {
  const spec: JsonObject = isObject(pod.spec) ? pod.spec : {};
  let any = false;
  let guaranteed = true;
  for (const c of containersOf(spec)) {
    const resources: JsonObject = isObject(c.resources) ? c.resources : {};
    const requests: JsonObject = isObject(resources.requests) ? resources.requests : {};
    const limits: JsonObject = isObject(resources.limits) ? resources.limits : {};
    if (Object.keys(requests).length || Object.keys(limits).length) any = true;
    for (const name of ["cpu", "memory"]) {
      if (
        limits[name] === undefined ||
        quantityValue(limits[name]) !== quantityValue(requests[name] ?? limits[name])
      ) {
        guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** podStrategy.PrepareForCreate: whatever status the client sent is replaced. */
export function initialPodStatus(pod: KubeObject): JsonObject {
  return { phase: "Pending", qosClass: podQosClass(pod) };
}
