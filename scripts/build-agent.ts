// Bundles the agent (agent/bin.ts → agent/main.ts) into one JavaScript file, dist/k3s-fleet-agent.mjs, with
// esbuild. That file is what the agent-only install, the agent image and the DaemonSet run: `node` and it,
// nothing else (no node_modules, no TypeScript stripping), on Node.js >= 20 (issue 14, bench/agent-results.md).
//
//   node scripts/build-agent.ts           # (re)writes dist/k3s-fleet-agent.mjs and its licence file
//   node scripts/build-agent.ts --check   # exit 1 when the committed files are not what the sources give
//
// The output is committed, and agent/bundle.test.ts fails when it is stale: a user, the image build and
// install.sh get it without a build step or a bundler (esbuild's native binary does not exist for every
// board the agent runs on), and CI (npm ci + npm test) checks it. After changing anything the agent
// imports, run this script and commit its output.
//
// What the bundle leaves out or defers, each measured in bench/agent-results.md:
// - systeminformation, commander, zod's and yaml's unused parts: never imported or tree-shaken;
// - MQTT.js's TLS and WebSocket transports (node:tls, node:crypto, ws): loaded only for mqtts:// / ws://;
// - node:crypto for the session file name of very long node ids: loaded only when one is that long;
// - node:sqlite: loaded when the buffer opens (agent/buffer-store.ts).
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLE = join(ROOT, "dist/k3s-fleet-agent.mjs");
export const LEGAL = `${BUNDLE}.LEGAL.txt`;
/** Oldest Node.js the bundle runs on: 20.11 is the newest for 32-bit ARM on the npm registry. */
export const BUNDLE_NODE_TARGET = "node20";

/** Packages that must never be in the agent bundle. */
export const FORBIDDEN = [
  "@kubernetes/client-node",
  "aedes",
  "prom-client",
  "systeminformation",
  "commander",
  "coordinator/",
];

/** MQTT.js requires every transport on the first connect; make each a getter, required when used. */
const lazyMqttTransports: Plugin = {
  name: "lazy-mqtt-transports",
  setup(b) {
    b.onLoad({ filter: /mqtt[\\/]build[\\/]lib[\\/]connect[\\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const assignment = /protocols\.(\w+) = (require\('\.\/\w+'\)\.\w+|protocols\.\w+);/g;
      const nodeBranch = /if \(!is_browser_1\.default && !opts\.forceNativeWebSocket\) \{([^}]*)\}/;
      const branch = nodeBranch.exec(source)?.[1];
      if (!branch || [...branch.matchAll(assignment)].length < 6) {
        throw new Error(
          `${args.path}: MQTT.js's transport table has changed; update ${fileURLToPath(import.meta.url)}`,
        );
      }
      const lazy = branch.replace(
        assignment,
        (_, name: string, value: string) =>
          `Object.defineProperty(protocols, '${name}', { enumerable: true, configurable: true, get: () => ${value} });`,
      );
      return { contents: source.replace(branch, lazy), loader: "js" };
    });
  },
};

/** node:crypto as a module whose functions load it on first call. */
const lazyCrypto: Plugin = {
  name: "lazy-crypto",
  setup(b) {
    b.onResolve({ filter: /^node:crypto$/ }, (args) =>
      args.importer.endsWith(join("agent", "session-store.ts"))
        ? { path: "lazy-crypto", namespace: "k3sf" }
        : undefined,
    );
    b.onLoad({ filter: /^lazy-crypto$/, namespace: "k3sf" }, () => ({
      contents: `import { createRequire } from "node:module";
        export const createHash = (...args) => createRequire(import.meta.url)("node:crypto").createHash(...args);`,
      loader: "js",
    }));
  },
};

/** Packages the agent imports only for code the bundle never reaches (cli/options.ts's commander). */
const sideEffectFree: Plugin = {
  name: "side-effect-free",
  setup(b) {
    b.onResolve({ filter: /^commander$/ }, async (args) => {
      if (args.pluginData === "again") return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: "again",
      });
      return { ...resolved, sideEffects: false };
    });
  },
};

/** The agent reads only its version from package.json: the bundle carries that, not the whole file. */
const packageVersionOnly: Plugin = {
  name: "package-version-only",
  setup(b) {
    b.onLoad({ filter: /[\\/]package\.json$/ }, async (args) => {
      if (args.path !== join(ROOT, "package.json")) return undefined;
      const { version } = JSON.parse(await readFile(args.path, "utf8")) as { version: string };
      return { contents: JSON.stringify({ version }), loader: "json" };
    });
  },
};

export interface AgentBundle {
  code: string;
  legal: string;
  metafile: Metafile;
}

/** Builds the bundle in memory. */
export async function buildAgentBundle(): Promise<AgentBundle> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ["agent/bin.ts"],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: BUNDLE_NODE_TARGET,
    minify: true,
    legalComments: "external",
    charset: "utf8",
    metafile: true,
    write: false,
    logLevel: "silent",
    // CommonJS dependencies require Node's built-ins; an ES module has no `require` of its own.
    banner: {
      js: '#!/usr/bin/env node\nimport{createRequire as __k3sfRequire}from"node:module";const require=__k3sfRequire(import.meta.url);',
    },
    plugins: [lazyMqttTransports, lazyCrypto, sideEffectFree, packageVersionOnly],
  });
  const file = (suffix: string) => result.outputFiles.find((f) => f.path.endsWith(suffix))?.text ?? "";
  return { code: file(".mjs"), legal: file(".LEGAL.txt"), metafile: result.metafile };
}

/** Input paths (relative to the repository) that ended up in the bundle. */
export function bundledInputs(metafile: Metafile): string[] {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(".mjs"))?.[1];
  return Object.keys(output?.inputs ?? {});
}

if (import.meta.main) {
  const bundle = await buildAgentBundle();
  const forbidden = bundledInputs(bundle.metafile).filter((input) =>
    FORBIDDEN.some((f) => input.includes(f)),
  );
  if (forbidden.length > 0) throw new Error(`the agent bundle must not contain: ${forbidden.join(", ")}`);
  if (process.argv.includes("--check")) {
    const [code, legal] = await Promise.all([
      readFile(BUNDLE, "utf8").catch(() => ""),
      readFile(LEGAL, "utf8").catch(() => ""),
    ]);
    if (code !== bundle.code || legal !== bundle.legal) {
      process.stderr.write(`${BUNDLE} is stale: run node scripts/build-agent.ts and commit the result\n`);
      process.exit(1);
    }
    process.stdout.write(`${BUNDLE} is current\n`);
  } else {
    const { mkdir, chmod } = await import("node:fs/promises");
    await mkdir(dirname(BUNDLE), { recursive: true });
    await writeFile(BUNDLE, bundle.code);
    await chmod(BUNDLE, 0o755);
    await writeFile(LEGAL, bundle.legal);
    process.stdout.write(`${BUNDLE}: ${(bundle.code.length / 1024).toFixed(0)} KiB\n`);
  }
}
