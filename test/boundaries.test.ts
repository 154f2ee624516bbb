// The folder boundaries of biome.json (issue 16), held to what they promise: each case is a file placed
// where it would live, linted with the repository's own biome.json, and must be refused (or accepted) by
// the boundary rules. Deleting or loosening an override makes a case fail here, not silently in review.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./support/cli.ts";

type Rule = "noRestrictedImports" | "noRestrictedGlobals";
interface Case {
  path: string;
  source: string;
  refused: Rule[];
}

const cases: Case[] = [
  // proto/ imports nothing of ours but proto/gen.
  {
    path: "proto/a.ts",
    source: 'import { b } from "../common/backoff.ts";\nexport const a = b;',
    refused: ["noRestrictedImports"],
  },
  // ...except the one coded error every side shares (common/errors.ts imports nothing itself).
  {
    path: "proto/c.ts",
    source: 'import { FleetError } from "../common/errors.ts";\nexport const a = FleetError;',
    refused: [],
  },
  {
    path: "proto/b.ts",
    source: 'import { m } from "./gen/k3sfleet/v1/fleet_pb.ts";\nexport const a = m;',
    refused: [],
  },
  // agent/ never imports the coordinator, the Kubernetes client, aedes or prom-client.
  {
    path: "agent/a.ts",
    source: 'import { s } from "../coordinator/fleet/state.ts";\nexport const a = s;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "agent/b.ts",
    source: 'import { KubeConfig } from "@kubernetes/client-node";\nexport const a = KubeConfig;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "agent/c.ts",
    source: 'import { Aedes } from "aedes";\nexport const a = Aedes;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "agent/d.ts",
    source: 'import { Counter } from "prom-client";\nexport const a = Counter;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "agent/e.ts",
    source:
      'import { p } from "../proto/index.ts";\nimport { l } from "../mqtt/link.ts";\nimport { b } from "../common/backoff.ts";\nimport pino from "pino";\nexport const a = [p, l, b, pino, process.env];',
    refused: [],
  },
  // Pure files: no I/O module, no pino value (types are fine), no process.
  {
    path: "agent/shape.ts",
    source: 'import { readFileSync } from "node:fs";\nexport const a = readFileSync;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "coordinator/scheduler/a.ts",
    source: 'import mqtt from "mqtt";\nexport const a = mqtt;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "coordinator/scheduler/filters/b.ts",
    source: "export const a = process.env.X;",
    refused: ["noRestrictedGlobals"],
  },
  {
    path: "coordinator/scheduler/c.ts",
    source: 'import pino from "pino";\nexport const a = pino;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "coordinator/scheduler/d.ts",
    source: 'import type { Logger } from "pino";\nexport type A = Logger;',
    refused: [],
  },
  {
    path: "coordinator/fleet/state.ts",
    source: 'import { connect } from "node:net";\nexport const a = connect;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "coordinator/fleet/history.ts",
    source: 'import { BlockList } from "node:net";\nexport const a = BlockList;',
    refused: [],
  },
  {
    path: "coordinator/report/build.ts",
    source: 'import { KubeConfig } from "@kubernetes/client-node";\nexport const a = KubeConfig;',
    refused: ["noRestrictedImports"],
  },
  {
    path: "coordinator/placement/policy.ts",
    source: 'import { DatabaseSync } from "node:sqlite";\nexport const a = DatabaseSync;',
    refused: ["noRestrictedImports"],
  },
  // An edge file may do I/O.
  {
    path: "coordinator/fleet/ingest.ts",
    source: 'import pino from "pino";\nexport const a = [pino, process.env];',
    refused: [],
  },
  // common/ imports nothing else of ours.
  {
    path: "common/a.ts",
    source: 'import { p } from "../proto/index.ts";\nexport const a = p;',
    refused: ["noRestrictedImports"],
  },
];

let found = new Map<string, Rule[]>();
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "k3sf-boundaries-"));
  copyFileSync(join(ROOT, "biome.json"), join(dir, "biome.json"));
  for (const c of cases) {
    mkdirSync(dirname(join(dir, c.path)), { recursive: true });
    writeFileSync(join(dir, c.path), `${c.source}\n`);
  }
  let out: string;
  try {
    out = execFileSync(
      join(ROOT, "node_modules/.bin/biome"),
      ["lint", "--reporter=json", "--max-diagnostics=none", "."],
      {
        cwd: dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
  } catch (error) {
    out = String((error as { stdout?: string }).stdout ?? ""); // exit 1 when anything is refused
  }
  const report = JSON.parse(out) as {
    diagnostics: Array<{ category: string; location: { path?: unknown } }>;
  };
  found = new Map();
  for (const d of report.diagnostics) {
    const rule = d.category.split("/").at(-1) as Rule;
    if (rule !== "noRestrictedImports" && rule !== "noRestrictedGlobals") continue;
    const path = String(d.location.path);
    found.set(path, [...(found.get(path) ?? []), rule]);
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("folder boundaries (biome.json overrides)", () => {
  it.each(cases)("$path: refused by $refused", ({ path, refused }) => {
    expect([...new Set(found.get(path) ?? [])].sort()).toEqual(refused);
  });
});
