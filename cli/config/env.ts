// Environment → config layer. Names come from the schema's paths: agent.interval ⇐ K3S_FLEET_AGENT_INTERVAL,
// broker.maxPayloadBytes ⇐ K3S_FLEET_BROKER_MAX_PAYLOAD_BYTES; plus the old tool's K3S_NAMESPACE and K3S_LOG_LEVEL,
// and NODE_NAME from the downward API.
import { z } from "zod";
import { configSchema } from "./schema.ts";
import { closest } from "./suggest.ts";

export const ENV_PREFIX = "K3S_FLEET_";

/** Prefixed names read elsewhere that are not settings. */
const NOT_SETTINGS: ReadonlySet<string> = new Set(["K3S_FLEET_CONFIG"]);

/** Names kept from the earlier Go tool, mapped to their config path. */
const LEGACY_ENV: Record<string, string[]> = {
  K3S_NAMESPACE: ["k3s", "namespace"],
  K3S_LOG_LEVEL: ["logging", "level"],
  // The Kubernetes downward API convention for the node a pod runs on (see deploy/k3s).
  NODE_NAME: ["agent", "nodeName"],
};

const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  // Defaults, prefaults, optionals and pipes wrap the object we want to walk.
  for (;;) {
    const def = (current as { def?: { innerType?: z.ZodType; in?: z.ZodType; schema?: z.ZodType } }).def;
    const inner = def?.innerType ?? def?.in ?? def?.schema;
    if (!inner || current instanceof z.ZodObject) return current;
    current = inner;
  }
}

/** Every settable leaf as [ENV_NAME, path]. */
export function envVariables(): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  const walk = (schema: z.ZodType, path: string[]) => {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject) {
      for (const [key, child] of Object.entries(inner.shape)) walk(child as z.ZodType, [...path, key]);
    } else {
      out.push([ENV_PREFIX + path.map(snake).join("_"), path]);
    }
  };
  walk(configSchema, []);
  for (const [name, path] of Object.entries(LEGACY_ENV)) out.push([name, path]);
  return out;
}

/** The settings object before the final transform (defaults as written, e.g. no derived scheduling.store). */
export const settingsSchema = (): z.ZodObject => unwrap(configSchema) as z.ZodObject;

/** The keys the schema knows at `path` (an object's keys), or undefined when `path` is not an object. */
export function keysAt(path: readonly (string | number)[]): string[] | undefined {
  let schema = unwrap(configSchema);
  for (const key of path) {
    if (!(schema instanceof z.ZodObject)) return undefined;
    const child = (schema.shape as Record<string, z.ZodType>)[String(key)];
    if (child === undefined) return undefined;
    schema = unwrap(child);
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

/** One problem per K3S_FLEET_* variable that names no setting: a typo there would silently do nothing. */
export function unknownEnvProblems(env: NodeJS.ProcessEnv): string[] {
  const known = envVariables()
    .map(([name]) => name)
    .filter((name) => name.startsWith(ENV_PREFIX));
  const knownSet = new Set([...known, ...NOT_SETTINGS]);
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || knownSet.has(name)) continue;
    const hint = closest(name, known);
    problems.push(`environment ${name}: not a setting${hint ? ` (did you mean ${hint}?)` : ""}`);
  }
  return problems.sort();
}

/** The config layer the environment gives; the prefixed name wins over the legacy one. */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [name, path] of envVariables()) {
    const value = env[name];
    const key = path.join(".");
    if (value === undefined || value === "" || seen.has(key)) continue;
    seen.add(key);
    setPath(layer, path, value);
  }
  return layer;
}

export function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}
