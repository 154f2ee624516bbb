// Markdown for bench/results.md from the suite's results. Only measured values are printed; a value that
// was not measured (a step skipped, a run that failed) shows as "—" with the reason next to it.
import type { DeathFigures } from "./dead-node.ts";
import { fmt, int, type LatencyFigures, type MachineFacts, mdTable, type ProcUsage } from "./harness.ts";
import type { IngestResult } from "./ingest.ts";
import type { MaxRateResult, RateStep } from "./max-rate.ts";
import type { MemoryResult } from "./memory.ts";
import type { SchedulingWindow } from "./scheduling.ts";

export interface ReportCost {
  nodes: number;
  buildMs: number;
  encodeMs: number;
  /** The report interval's own path: built and encoded in slices, published. */
  slicedMs?: number;
  /** Longest the event loop was held meanwhile. */
  longestBlockMs?: number;
  bytes: number;
}

export interface TenKExtras {
  /** buildReportNow() + encode in the coordinator process, measured a few times while the fleet streams. */
  reportCost: ReportCost[];
  scheduling: Array<{ rate: number; window?: SchedulingWindow; error?: string }>;
  crash?: DeathFigures | { error: string };
  silent?: DeathFigures | { error: string };
}

export interface IngestRow {
  broker: string;
  nodes: number;
  result?: IngestResult<TenKExtras | undefined>;
  error?: string;
}

export interface SuiteResults {
  mode: "full" | "quick";
  command: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  machine: MachineFacts;
  loadStart: string;
  loadEnd: string;
  mosquittoConfig: readonly string[];
  settings: Record<string, string | number>;
  ingest: IngestRow[];
  maxRate: Array<MaxRateResult | { broker: string; error: string }>;
  memory?: MemoryResult | { error: string };
  notes: string[];
}

const ms = (l: LatencyFigures) => `${int(l.p50)} / ${int(l.p99)} / ${int(l.max)}`;
const mib = (bytes: number) => fmt(bytes / 2 ** 20, 0);
const isError = (x: object): x is { error: string } => "error" in x;

/** "76 %", or "41 + 39 %" when the nodes were split across simulator processes. */
function simulatorCpu(usage: Record<string, ProcUsage>): string {
  const parts = Object.entries(usage)
    .filter(([name]) => name.startsWith("simulator"))
    .map(([, u]) => fmt(u.cpuPercent, 0));
  return parts.length === 0 ? "—" : `${parts.join(" + ")} %`;
}

function ingestTable(rows: IngestRow[]): string {
  const body = rows.map((r) => {
    const w = r.result;
    if (!w)
      return [r.broker, int(r.nodes), "—", `**failed:** ${r.error ?? "?"}`, ..."—".repeat(11).split("")];
    const mq = w.usage.mosquitto;
    return [
      r.broker,
      int(r.nodes),
      `${w.startedAt} ${w.loadBefore.split(" ")[0]} → ${w.loadAfter.split(" ")[0]}`,
      `${fmt(w.seconds, 0)} s`,
      `${int(w.publishedPerSecond)} / ${int(w.receivedPerSecond)}`,
      `**${int(w.lost)}** of ${int(w.expected)}${w.late > 0 ? ` (+${int(w.late)} late)` : ""}`,
      ms(w.latencyMs),
      `${fmt(w.usage.coordinator?.cpuPercent, 0)} % / ${fmt(w.usage.coordinator?.rssEndMiB, 0)}`,
      `${fmt(w.usage.coordinator?.cpuWaitPercent, 0)} %`,
      mq ? `${fmt(mq.cpuPercent, 0)} % / ${fmt(mq.rssEndMiB, 0)}` : "in the coordinator",
      simulatorCpu(w.usage),
      `${fmt(w.coordinator.loopDelayP99Ms, 0)} / ${fmt(w.coordinator.loopDelayMaxMs, 0)}`,
      w.coordinator.gc
        ? `${fmt(w.coordinator.gc.totalMs, 0)} ms in ${int(w.coordinator.gc.count)}; ${fmt(w.coordinator.gc.maxMs, 0)} / ${fmt(w.coordinator.gc.majorMaxMs, 0)} ms`
        : "—",
      `${int(w.sim.lagged)} / ${int(w.sim.skipped)}`,
      `${fmt(w.connectSeconds, 1)} s, ${int(w.connectErrors)} errors`,
      w.teardown,
    ];
  });
  return mdTable(
    [
      "broker",
      "nodes",
      "start (UTC), load 1-min before → after",
      "window",
      "published / received per s",
      "lost of expected (not in fleet state 10 s after the drain; late: arrived after the drain)",
      "publish → fleet state p50 / p99 / max (ms)",
      "coordinator process CPU / RSS (MiB)",
      "coordinator waiting for a CPU",
      "Mosquitto CPU / RSS (MiB)",
      "simulator CPU",
      "coordinator event-loop delay p99 / max (ms)",
      "coordinator GC pauses: total in how many; longest / longest mark-compact",
      "simulator lagged / skipped slots",
      "connect",
      "all nodes stop at once",
    ],
    body,
  );
}

function stepRow(s: RateStep, label: string): Array<string | number> {
  const w = s.window;
  return [
    label,
    s.at,
    `${int(s.offered)} (${s.intervalMs} ms)`,
    w ? `${w.loadBefore.split(" ")[0]} → ${w.loadAfter.split(" ")[0]}` : "—",
    w ? `${fmt(w.seconds, 0)} s` : "—",
    w ? `${int(w.publishedPerSecond)} / ${int(w.receivedPerSecond)}` : "—",
    w ? `${int(w.lost)} of ${int(w.expected)}${w.late > 0 ? ` (+${int(w.late)} late)` : ""}` : "—",
    w ? ms(w.latencyMs) : "—",
    w
      ? `${fmt(w.usage.coordinator?.cpuPercent, 0)} % (waiting ${fmt(w.usage.coordinator?.cpuWaitPercent, 0)} %)`
      : "—",
    w?.usage.mosquitto ? `${fmt(w.usage.mosquitto.cpuPercent, 0)} %` : "—",
    w ? simulatorCpu(w.usage) : "—",
    s.pass ? `pass${s.why ? `; then **${s.why}**` : ""}` : `**fail**: ${s.why}`,
  ];
}

function maxRateSection(results: SuiteResults["maxRate"]): string {
  const parts: string[] = [];
  for (const r of results) {
    if (isError(r)) {
      parts.push(`**${r.broker}: failed:** ${r.error}`);
      continue;
    }
    const rows = r.steps.map((s, i) => stepRow(s, `step ${i + 1}`));
    if (r.final) rows.push(stepRow(r.final, "**sustained**"));
    if (r.fallback) rows.push(stepRow(r.fallback, "**sustained, next lower**"));
    parts.push(
      `**${r.broker}**, ${int(r.nodes)} nodes, QoS 1: best step ${r.best === undefined ? "none passed" : `${int(r.best)} msg/s`}` +
        (r.steps.some((s) => /exited by itself/.test(s.why))
          ? " (**the search ended: the coordinator crashed**)"
          : "") +
        (r.final ? `; long window at that rate: ${r.final.pass ? "**passed**" : "**failed**"}` : "") +
        (r.fallback
          ? `; at ${int(r.fallback.offered)} msg/s: ${r.fallback.pass ? "**passed**" : "**failed**"}`
          : ""),
      "",
      mdTable(
        [
          "",
          "start (UTC)",
          "offered msg/s (interval)",
          "load 1-min",
          "window",
          "published / received per s",
          "lost",
          "p50 / p99 / max (ms)",
          "coordinator CPU",
          "Mosquitto CPU",
          "simulator CPU",
          "verdict",
        ],
        rows,
      ),
      ...(r.notes.length > 0 ? ["", ...r.notes.map((n) => `- ${n}`)] : []),
    );
    parts.push("");
  }
  return parts.join("\n");
}

function deathRow(broker: string, d: DeathFigures | { error: string } | undefined, label: string) {
  if (!d) return [broker, label, "not run", "—", "—", "—"];
  if (isError(d)) return [broker, label, `**failed:** ${d.error}`, "—", "—", "—"];
  const s = (l: LatencyFigures) => (l.samples === 0 ? "—" : `${fmt(l.p50, 2)} / ${fmt(l.max, 2)}`);
  return [
    broker,
    label,
    `${d.detected} of ${d.killed} (timeout ${d.timeoutS} s)`,
    s(d.offlineS),
    s(d.willS),
    s(d.staleS),
  ];
}

function schedulingRows(broker: string, extras: TenKExtras) {
  return extras.scheduling.map(({ rate, window: s, error }) => {
    if (!s) return [broker, int(rate), `**failed:** ${error ?? "?"}`, ..."—".repeat(7).split("")];
    const d = s.during;
    const builds = d.snapshotBuildsMs;
    return [
      broker,
      int(rate),
      `${s.loadBefore.split(" ")[0]} → ${s.loadAfter.split(" ")[0]}`,
      `${int(d.decisions)} in ${fmt(d.seconds, 1)} s = ${fmt(d.perSecond, 0)}/s`,
      `${fmt(d.latencyMs.p50, 2)} / ${fmt(d.latencyMs.p99, 2)} / ${fmt(d.latencyMs.max, 1)}`,
      `${builds.length} × ${builds.map((b) => fmt(b, 0)).join(", ")} ms (${int(d.snapshotNodes)} nodes)`,
      `${int(d.scheduled)} / ${int(d.unschedulable)}, ${int(d.avgFeasible)} feasible`,
      `${int(s.lost)} of ${int(s.expected)}`,
      `${ms(s.latencyMs)}`,
      `${fmt(s.usage.coordinator?.cpuPercent, 0)} %`,
    ];
  });
}

export function renderRun(r: SuiteResults): string {
  const m = r.machine;
  const lines: string[] = [
    `### ${r.mode === "quick" ? "Quick run (`--quick`)" : "Full run"}: ${r.startedAt.slice(0, 10)}, ${r.startedAt.slice(11, 19)}–${r.finishedAt.slice(11, 19)} UTC (${fmt(r.seconds / 60, 1)} min)`,
    "",
    `- Command: \`${r.command}\``,
    `- Machine: \`nproc\` = ${m.nproc}, ${m.cpuModel}, ${fmt(m.memGiB, 1)} GiB RAM, Linux ${m.kernel}, \`ulimit -n\` ${m.nofile}; shared with other engineers' jobs`,
    `- Node ${m.node}, aedes ${m.aedes}, Mosquitto ${m.mosquitto} (bench config: ${r.mosquittoConfig.map((c) => `\`${c}\``).join(", ")})`,
    `- Load average (1/5/15 min) at the start: ${r.loadStart}; at the end: ${r.loadEnd}`,
    `- Settings: ${Object.entries(r.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join("; ")}`,
    "",
    "#### 1a. Ingest, N virtual nodes × 1 Hz, QoS 1",
    "",
    ingestTable(r.ingest),
    "",
  ];
  const tenK = r.ingest.filter((row) => row.result?.extras);
  const costs = tenK.flatMap((row) =>
    (row.result?.extras?.reportCost ?? []).map(
      (c) =>
        `${row.broker}, ${int(c.nodes)} nodes: ${fmt(c.buildMs, 0)} + ${fmt(c.encodeMs, 0)} ms (${fmt(c.bytes / 1024, 0)} KiB)` +
        (c.slicedMs === undefined
          ? ""
          : `, sliced ${fmt(c.slicedMs, 0)} ms holding the loop ${fmt(c.longestBlockMs ?? 0, 0)} ms at most`),
    ),
  );
  if (costs.length > 0) {
    lines.push(
      "Fleet report, built + encoded in one piece in the coordinator process while the fleet streams, then as " +
        "the report timer does it every 30 s (in slices of 500 nodes that yield to ingest, and published): " +
        `${costs.join("; ")}.`,
      "",
    );
  }
  lines.push("#### 1b. Highest rate without loss", "", maxRateSection(r.maxRate), "");
  lines.push("#### 2. Dead-node detection (keepalive 5 s, coordinator polled every 100 ms)", "");
  lines.push(
    mdTable(
      [
        "broker",
        "death",
        "marked OFFLINE",
        "kill → OFFLINE p50 / max (s)",
        "kill → Will applied p50 / max (s)",
        "kill → STALE p50 / max (s)",
      ],
      tenK.flatMap((row) => {
        const e = row.result?.extras as TenKExtras;
        const n = `${row.broker}, ${int(row.nodes)} nodes`;
        return [
          deathRow(n, e.crash, "crash (socket closed, FIN)"),
          deathRow(n, e.silent, "silent (process frozen, no FIN)"),
        ];
      }),
    ),
    "",
  );
  lines.push("#### 3. Memory per node, one hour of history", "");
  const mem = r.memory;
  if (!mem) lines.push("not run", "");
  else if (isError(mem)) lines.push(`**failed:** ${mem.error}`, "");
  else {
    lines.push(
      mdTable(
        [
          "nodes",
          "JS heap + typed arrays per node (live state → with the hour)",
          "added by the hour",
          "of which history rings",
          "process RSS per node",
          "history held",
        ],
        [
          [
            int(mem.nodes),
            `${fmt(mem.livePerNodeKiB, 2)} → **${fmt(mem.perNodeKiB, 2)} KiB** (${int(mem.perNodeKiB * 1024)} B)`,
            `${fmt(mem.hourAddedPerNodeKiB * 1024, 0)} B`,
            `${int(mem.historyBytesPerNode)} B (raw ring ${mem.rawCapacity} points)`,
            `${fmt(mem.rssPerNodeKiB, 1)} KiB`,
            `${int(mem.samplesPerNode)} samples in the last hour per node (${mem.historySpanMinutes} min of buckets)`,
          ],
        ],
      ),
      "",
    );
  }
  const live = r.ingest.filter((row) => row.result && row.nodes >= 5000);
  if (live.length > 0) {
    lines.push(
      "Live coordinator process (from 1a, after forced GCs in the child; RSS includes connections, buffers and, for aedes, the broker):",
      "",
      mdTable(
        [
          "broker",
          "nodes",
          "RSS before any node → with N nodes (MiB)",
          "RSS per node",
          "JS heap + typed arrays per node",
        ],
        live.map((row) => {
          const w = row.result as IngestResult<TenKExtras | undefined>;
          return [
            row.broker,
            int(row.nodes),
            `${mib(w.memoryBaseline.rss)} → ${mib(w.memoryAfter.rss)}`,
            `${fmt(w.rssPerNodeKiB, 1)} KiB`,
            `${fmt(w.heapPerNodeKiB, 1)} KiB`,
          ];
        }),
      ),
      "",
    );
  }
  lines.push(
    "#### 4. Scheduling under load (decisions inside the coordinator process while the fleet streams)",
    "",
  );
  lines.push(
    mdTable(
      [
        "broker",
        "target decisions/s",
        "load 1-min",
        "decisions",
        "decision p50 / p99 / max (ms)",
        "snapshot builds",
        "scheduled / unschedulable",
        "ingest lost during it",
        "ingest p50 / p99 / max (ms)",
        "coordinator CPU",
      ],
      tenK.flatMap((row) => schedulingRows(row.broker, row.result?.extras as TenKExtras)),
    ),
    "",
  );
  if (r.notes.length > 0) lines.push(...r.notes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}
