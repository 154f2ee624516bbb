// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by package/area.
//   node bench/suite/profile-summary.ts FILE.cpuprofile [--top 25]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: Array<{ name: string; ms: number; percent: number }>;
  byArea: Array<{ name: string; ms: number; percent: number }>;
}

/** node_modules/<pkg>, our top-level directory, node: internals, or a V8 pseudo-node like (garbage collector). */
export function areaOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] as string;
  if (url.startsWith("node:")) return url.replace(/^node:(internal\/)?/, "node:").split("/")[0] as string;
  const ours = /\/work\/[^/]+\/([^/]+)\/([^/]+)/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url;
}

export function summariseProfile(profile: Profile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(node_modules\/)?/, "");
    const name = `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
    fn.set(name, (fn.get(name) ?? 0) + us);
    const a = areaOf(url, functionName);
    area.set(a, (area.get(a) ?? 0) + us);
    total += us;
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: (us / total) * 100 }));
  return { totalMs: total / 1000, byFunction: rank(fn), byArea: rank(area) };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "25" } },
  });
  for (const file of positionals) {
    const summary = summariseProfile(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(values.top));
    console.log(`${file}: ${summary.totalMs.toFixed(0)} ms sampled`);
    console.log("\nself time by area:");
    for (const a of summary.byArea) console.log(`  ${a.percent.toFixed(1).padStart(5)} %  ${a.name}`);
    console.log("\nself time by function:");
    for (const f of summary.byFunction) console.log(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.name}`);
  }
}
