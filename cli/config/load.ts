// Builds the one Config: flags > environment > config file > defaults. Invalid config fails fast,
// listing every problem with where it came from.
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { FleetError } from "../../common/errors.ts";
import { configFromEnv, ENV_PREFIX, envVariables, keysAt, unknownEnvProblems } from "./env.ts";
import { type Config, configSchema } from "./schema.ts";
import { closest } from "./suggest.ts";

export const DEFAULT_CONFIG_FILE = "config/config.yaml";

export class ConfigError extends FleetError<"K3SF_ERR_CONFIG"> {
  readonly problems: string[];
  constructor(problems: string[], options?: { cause?: unknown }) {
    super(
      "K3SF_ERR_CONFIG",
      `invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      options,
    );
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** Explicit --config path: must exist. Otherwise config/config.yaml is read when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values already placed at their config paths; undefined leaves are ignored. */
  flags?: Record<string, unknown>;
}

export function loadConfig({ file, env = process.env, flags = {} }: LoadOptions = {}): Config {
  const path =
    file ?? env.K3S_FLEET_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const fromFile = path ? readConfigFile(path) : {};
  const merged = deepMerge(deepMerge(fromFile, configFromEnv(env)), flags);
  const envProblems = unknownEnvProblems(env);
  const result = configSchema.safeParse(merged);
  if (!result.success || envProblems.length > 0) {
    const issues = result.success ? [] : result.error.issues.flatMap(describeIssue);
    throw new ConfigError([...issues, ...envProblems], { cause: result.error });
  }
  return result.data;
}

/** One line per problem; an unknown key names the setting it most likely meant. */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  const where = issue.path.join(".");
  if (issue.code !== "unrecognized_keys") return [`${where || "(root)"}: ${issue.message}`];
  const known = keysAt(issue.path as (string | number)[]) ?? [];
  return issue.keys.map((key) => {
    const full = where ? `${where}.${key}` : key;
    const near = closest(key, known);
    // Not near anything here: perhaps a setting of another section (agent.reportInterval).
    const hint = near !== undefined ? (where ? `${where}.${near}` : near) : elsewhere(key);
    return `${full}: unknown setting${hint ? ` (did you mean ${hint}?)` : ""}`;
  });
}

/** The full path of the setting, in any section, whose name is closest to `key`. */
function elsewhere(key: string): string | undefined {
  const byName = new Map<string, string>();
  for (const [name, path] of envVariables()) {
    if (name.startsWith(ENV_PREFIX)) byName.set(path.at(-1) as string, path.join("."));
  }
  const name = closest(key, byName.keys());
  return name === undefined ? undefined : byName.get(name);
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError([`config file ${path}: cannot be read (${(error as Error).message})`], {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`config file ${path}: ${(error as Error).message}`], { cause: error });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError([`config file ${path}: expected a mapping at the top level`]);
  }
  return parsed as Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Later layers win leaf by leaf; undefined never overrides. Label maps merge too. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}
