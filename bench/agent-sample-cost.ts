// Cost of one sample: the agent's /proc-based SampleSource.read() against the systeminformation calls an
// agent would otherwise make per sample. Per call: wall time, the longest event-loop stall during it, and
// how many child processes it started (child_process calls; a shell pipeline starts more than one process).
// Usage: node bench/agent-sample-cost.ts [--samples 15] [--spacing 1000]
import childProcess from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { samples: { type: "string", default: "15" }, spacing: { type: "string", default: "1000" } },
});
const samples = Number(values.samples);
const spacingMs = Number(values.spacing);

// Count spawns by wrapping child_process before systeminformation is loaded: it keeps references to
// exec/execSync/spawn taken at require time, and ESM's default import is the same CommonJS exports object.
let spawned = 0;
const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const name of ["exec", "execFile", "spawn", "execSync", "execFileSync", "spawnSync"]) {
  const original = cp[name];
  if (typeof original !== "function") continue;
  cp[name] = (...args: unknown[]) => {
    spawned += 1;
    return original.apply(childProcess, args);
  };
}
const { default: si } = await import("systeminformation");
const { createSystemSource } = await import("../agent/sample-source.ts");

interface Cost {
  wallMs: number;
  stallMs: number;
  spawns: number;
}

async function measure(call: () => Promise<unknown>): Promise<Cost> {
  // A 1 ms ticker runs across the call; the longest gap between its ticks, less its period, is how long
  // the event loop was held (a synchronous execSync or parse) at a stretch.
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  longestGap = 0;
  last = performance.now();
  const before = spawned;
  const start = performance.now();
  await call();
  const wallMs = performance.now() - start;
  await new Promise((resolve) => setTimeout(resolve, 3));
  clearInterval(ticker);
  return { wallMs, stallMs: Math.max(0, longestGap - 1), spawns: spawned - before };
}

async function series(name: string, call: () => Promise<unknown>, warmup = 2) {
  for (let i = 0; i < warmup; i += 1) {
    await call();
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
  }
  const costs: Cost[] = [];
  for (let i = 0; i < samples; i += 1) {
    costs.push(await measure(call));
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const max = (xs: number[]) => Math.max(...xs);
  return {
    name,
    wall: `${median(costs.map((c) => c.wallMs)).toFixed(2)} / ${max(costs.map((c) => c.wallMs)).toFixed(2)}`,
    stall: `${median(costs.map((c) => c.stallMs)).toFixed(1)} / ${max(costs.map((c) => c.stallMs)).toFixed(1)}`,
    spawns: median(costs.map((c) => c.spawns)),
  };
}

const ours = createSystemSource();
const oursFsEveryTime = createSystemSource({ filesystemEveryMs: 0 });
const once = await measure(() => ours.facts());

const rows = [
  await series("agent SampleSource.read() (filesystems cached, 30 s refresh)", () => ours.read()),
  await series("agent SampleSource.read() with a statfs refresh every sample", () => oursFsEveryTime.read()),
  await series("systeminformation per-sample set (parallel)", () =>
    Promise.all([si.currentLoad(), si.mem(), si.fsStats(), si.disksIO(), si.networkStats("*"), si.fsSize()]),
  ),
  await series("  si.currentLoad()", () => si.currentLoad()),
  await series("  si.mem()", () => si.mem()),
  await series("  si.fsStats()", () => si.fsStats()),
  await series("  si.disksIO()", () => si.disksIO()),
  await series("  si.networkStats('*')", () => si.networkStats("*")),
  await series("  si.fsSize()", () => si.fsSize()),
  await series("  si.cpuTemperature()", () => si.cpuTemperature()),
  await series("  si.networkInterfaces()", () => si.networkInterfaces()),
];

const lines = [
  `date: ${new Date().toISOString()}  node: ${process.version}  samples: ${samples} spaced ${spacingMs} ms`,
  "",
  `agent SampleSource.facts() once at start (si.osInfo + si.cpu + sysfs): ${once.wallMs.toFixed(1)} ms, ` +
    `longest event-loop stall ${once.stallMs.toFixed(1)} ms, ${once.spawns} child process calls`,
  "",
  "| call | wall ms median / max | event-loop stall ms median / max | child_process calls per call |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.name} | ${r.wall} | ${r.stall} | ${r.spawns} |`),
];
process.stdout.write(`${lines.join("\n")}\n`);
