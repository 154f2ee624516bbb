// The shipped config/config.yaml and the README's Configuration and Scheduling sections name settings; the
// schema is the only place a setting exists. These tests keep the three in step: every setting is listed
// in config.yaml with its real default, and nothing either file names is missing from the schema.
import { readFileSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { envVariables, keysAt, settingsSchema } from "./env.ts";
import { configSchema } from "./schema.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

/** config.yaml with its commented-out settings uncommented; prose comments and the header left out. */
function uncomment(text: string): Record<string, unknown> {
  const lines = text.split("\n");
  const body = lines.slice(lines.indexOf("") + 1);
  const yaml = body
    .filter((line) => line.startsWith("# ") && !/^#\s*#/.test(line))
    .map((line) => line.slice(2))
    .join("\n");
  return parseYaml(yaml) as Record<string, unknown>;
}

/** Setting paths in a config object: leaves where the schema has no further object. */
function leafPaths(value: unknown, path: string[] = []): string[] {
  if (path.length > 0 && keysAt(path) === undefined) return [path.join(".")];
  if (typeof value !== "object" || value === null) return [path.join(".")];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...path, key]));
}

const schemaPaths = envVariables()
  .filter(([name]) => name.startsWith("K3S_FLEET_"))
  .map(([, path]) => path.join("."));

const at = (object: unknown, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], object);

describe("config/config.yaml", () => {
  const shipped = uncomment(read("config/config.yaml"));

  it("lists every setting the schema has, and none it lacks", () => {
    expect(leafPaths(shipped).sort()).toEqual([...schemaPaths].sort());
  });

  it("shows each setting's real default (or a valid example where there is none)", () => {
    const defaults = settingsSchema().parse({});
    const shown = configSchema.parse(shipped);
    const wrong = schemaPaths.filter(
      (path) =>
        at(defaults, path) !== undefined &&
        JSON.stringify(at(shown, path)) !== JSON.stringify(at(defaults, path)),
    );
    expect(wrong).toEqual([]);
  });
});

describe("README", () => {
  const readme = read("README.md");
  const section = (title: string) => {
    const start = readme.indexOf(`\n## ${title}\n`);
    expect(start).toBeGreaterThan(-1);
    const end = readme.indexOf("\n## ", start + 1);
    return readme.slice(start, end < 0 ? undefined : end);
  };
  // Prose only: code blocks show commands and their output (including a misspelt key's error).
  const text = (section("Scheduling") + section("Configuration")).replace(/```[\s\S]*?```/g, "");
  const quoted = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1] as string);
  const sections = new Set(keysAt([]));
  const allKeys = new Set(schemaPaths.flatMap((p) => p.split(".")));
  /** Kubernetes field names the README quotes, not settings. */
  // Field names of the Kubernetes API (every client-node model's attributes) and kube-scheduler's
  // configuration that the README quotes when it explains what the scheduler honours: not our settings.
  const kubernetesTerms = new Set([
    ...Object.values(k8s).flatMap((model) => {
      const map = (model as { attributeTypeMap?: Array<{ name: string }> }).attributeTypeMap;
      return Array.isArray(map) ? map.map((a) => a.name) : [];
    }),
    "hardPodAffinityWeight",
    "addedAffinity",
  ]);

  it("names only settings that exist (dotted paths, K3S_FLEET_* variables, camelCase keys)", () => {
    const missing = quoted.filter((word) => {
      const first = word.split(".")[0] as string;
      if (sections.has(first) && word.includes("."))
        return keysAt(word.split(".")) === undefined && !schemaPaths.includes(word);
      if (/^K3S_FLEET_[A-Z_]+$/.test(word)) return !envVariables().some(([name]) => name === word);
      if (/^[a-z]+[A-Z][A-Za-z]*$/.test(word)) return !allKeys.has(word) && !kubernetesTerms.has(word);
      return false;
    });
    expect(missing).toEqual([]);
  });
});
