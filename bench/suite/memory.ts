// Benchmark 3: coordinator memory per node with one hour of history (see memory-child.ts for how).
import { BenchChild } from "./harness.ts";
import type { MemoryRunResult } from "./memory-child.ts";

export interface MemoryResult extends MemoryRunResult {
  /** (heap used + array buffers) after the hour − before anything, per node. */
  perNodeKiB: number;
  /** The same, only for the live state (births, statuses, a few samples, rings already allocated). */
  livePerNodeKiB: number;
  /** What the hour of samples added on top of the live state, per node. */
  hourAddedPerNodeKiB: number;
  rssPerNodeKiB: number;
}

const jsBytes = (m: { heapUsed: number; arrayBuffers: number }) => m.heapUsed + m.arrayBuffers;

export async function runMemory(nodes: number, lifetimeMs: number): Promise<MemoryResult> {
  const child = await BenchChild.start("memory", new URL("./memory-child.ts", import.meta.url), {
    lifetimeMs,
  });
  try {
    const r = await child.request<MemoryRunResult>("run", { nodes, liveSamples: 5 }, lifetimeMs);
    return {
      ...r,
      perNodeKiB: (jsBytes(r.hour) - jsBytes(r.before)) / nodes / 1024,
      livePerNodeKiB: (jsBytes(r.live) - jsBytes(r.before)) / nodes / 1024,
      hourAddedPerNodeKiB: (jsBytes(r.hour) - jsBytes(r.live)) / nodes / 1024,
      rssPerNodeKiB: (r.hour.rss - r.before.rss) / nodes / 1024,
    };
  } finally {
    await child.close();
  }
}
