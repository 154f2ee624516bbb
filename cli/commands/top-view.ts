// `k3s-fleet top`'s model and screen: the latest fleet report, refreshed between reports by live
// telemetry, births (labels) and statuses; the last decisions from the report (or the web view, `--web`);
// rendered as text sorted and filtered as asked. Pure: messages and `now` in, lines out; colour only when
// asked (a terminal).

import stringWidth from "string-width";
import { LiveSample } from "../../coordinator/fleet/live-sample.ts";
import {
  type DecisionLineInput,
  decisionLine,
  fromRecent,
  printable,
} from "../../coordinator/report/decision-line.ts";
import {
  type FleetReport,
  type NodeBirth,
  NodeHealth,
  type NodeStatus,
  type NodeTelemetry,
  PeerState,
} from "../../proto/index.ts";
import { SORT_KEYS, type SortKey } from "./top-keys.ts";

export { printable, SORT_KEYS, type SortKey };

export interface TopNode {
  id: string;
  host: string;
  state: "online" | "stale" | "offline";
  cpu: number;
  mem: number;
  disk: number;
  load: number;
  temp: number | undefined;
  /** Last telemetry (local clock), undefined before any. */
  seenAt: number | undefined;
  labels: Record<string, string>;
}

const HEALTH: Record<number, TopNode["state"]> = {
  [NodeHealth.ONLINE]: "online",
  [NodeHealth.STALE]: "stale",
  [NodeHealth.OFFLINE]: "offline",
};

export class TopModel {
  report: FleetReport | undefined;
  reportAt = 0;
  /**
   * Where the last decisions come from: the retained report's `scheduling.recent` (any broker), or the
   * coordinator's web view (`--web`, which top.ts reads into `decisions`).
   */
  decisionsFrom: "report" | "web" = "report";
  /** The last decisions, newest first; undefined: none read yet. */
  decisions: DecisionLineInput[] | undefined = undefined;
  /** Why the decisions could not be read the last time, if they could not. */
  decisionsProblem: string | undefined = undefined;
  readonly nodes = new Map<string, TopNode>();
  readonly #labels = new Map<string, Record<string, string>>();
  readonly #sample = new LiveSample();

  applyReport(report: FleetReport, now: number): void {
    this.report = report;
    this.reportAt = now;
    if (this.decisionsFrom === "report") this.decisions = (report.scheduling?.recent ?? []).map(fromRecent);
    const seen = new Set<string>();
    for (const n of report.nodes) {
      seen.add(n.nodeId);
      const lastSeen = n.lastSeenMs === undefined ? undefined : now - Number(n.lastSeenMs);
      this.nodes.set(n.nodeId, {
        id: n.nodeId,
        host: n.hostname,
        state: HEALTH[n.health] ?? "offline",
        cpu: n.cpuPercent,
        mem: n.memoryPercent,
        disk: n.diskMaxUsePercent,
        load: n.load1m,
        temp: n.cpuTemperatureCelsius,
        seenAt: lastSeen,
        labels: this.#labels.get(n.nodeId) ?? {},
      });
    }
    for (const id of this.nodes.keys()) if (!seen.has(id)) this.nodes.delete(id);
  }

  applyBirth(nodeId: string, birth: NodeBirth): void {
    this.#labels.set(nodeId, birth.labels);
    const node = this.nodes.get(nodeId);
    if (node !== undefined) {
      node.labels = birth.labels;
      node.host = birth.hostname || node.host;
    }
  }

  /** Live figures between reports; a node the report has not named yet waits for it. */
  applyTelemetry(nodeId: string, t: NodeTelemetry, now: number): void {
    const node = this.nodes.get(nodeId);
    if (node === undefined || t.historical) return;
    const s = this.#sample;
    s.update(t);
    node.cpu = s.cpuPercent;
    node.mem = s.memoryPercent;
    node.disk = s.diskMaxUsePercent;
    node.load = s.load1m;
    node.temp = s.cpuTemperatureCelsius;
    node.seenAt = now;
    node.state = "online";
  }

  applyStatus(nodeId: string, status: NodeStatus): void {
    const node = this.nodes.get(nodeId);
    if (node !== undefined && status.state === PeerState.OFFLINE) node.state = "offline";
  }
}

export interface ViewOptions {
  sort: SortKey;
  /** "key" or "key=value"; empty: all nodes. */
  label: string;
  now: number;
  width: number;
  /** Lines available; undefined: every node (--once). */
  height?: number;
  color: boolean;
  /** Shown at the bottom in interactive mode. */
  footer?: string;
  /** Last decisions shown at most (default 10). */
  decisions?: number;
}

const ANSI = {
  online: "\u001b[32m",
  stale: "\u001b[33m",
  offline: "\u001b[31m",
  bold: "\u001b[1m",
  reset: "\u001b[0m",
};

export function labelMatches(labels: Record<string, string>, filter: string): boolean {
  if (filter === "") return true;
  const eq = filter.indexOf("=");
  const key = eq < 0 ? filter : filter.slice(0, eq);
  if (!Object.hasOwn(labels, key)) return false;
  return eq < 0 || labels[key] === filter.slice(eq + 1);
}

export function sortNodes(nodes: Iterable<TopNode>, sort: SortKey): TopNode[] {
  const list = [...nodes];
  const by = (n: TopNode) => (sort === "cpu" ? n.cpu : sort === "memory" ? n.mem : n.disk);
  list.sort((a, b) =>
    sort === "name" ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : by(b) - by(a) || (a.id < b.id ? -1 : 1),
  );
  return list;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * `text` in exactly `width` terminal columns: East Asian wide characters and emoji take two, so columns stay
 * aligned whatever the node names; cut at a whole character with "…" when too wide.
 */
function cell(text: string, width: number, right = false): string {
  let t = printable(text);
  let w = stringWidth(t);
  if (w > width) {
    let cut = "";
    w = 0;
    for (const { segment } of graphemes.segment(t)) {
      const sw = stringWidth(segment);
      if (w + sw > width - 1) break;
      cut += segment;
      w += sw;
    }
    t = `${cut}…`;
    w += 1;
  }
  const pad = " ".repeat(Math.max(0, width - w));
  return right ? pad + t : t + pad;
}

const pct = (v: number) => `${v.toFixed(1)}%`;

function ago(ms: number | undefined, now: number): string {
  if (ms === undefined) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

export function renderTop(model: TopModel, o: ViewOptions): string {
  const paint = (code: string, text: string) => (o.color ? `${code}${text}${ANSI.reset}` : text);
  const lines: string[] = [];
  const report = model.report;
  const all = [...model.nodes.values()];
  const counts = { online: 0, stale: 0, offline: 0 };
  for (const n of all) counts[n.state]++;
  const shown = sortNodes(
    all.filter((n) => labelMatches(n.labels, o.label)),
    o.sort,
  );
  lines.push(
    `k3s-fleet top — ${all.length} nodes: ${paint(ANSI.online, `${counts.online} online`)}, ${paint(ANSI.stale, `${counts.stale} stale`)}, ${paint(ANSI.offline, `${counts.offline} offline`)}` +
      (report
        ? ` — report ${ago(model.reportAt, o.now)} ago from ${printable(report.coordinatorId)} (${report.mode})`
        : ""),
  );
  lines.push(
    `sorted by ${o.sort}${o.label ? `, label ${printable(o.label)}` : ""}: showing ${shown.length} of ${all.length}`,
  );
  const fixed = 8 + 7 + 7 + 7 + 6 + 7 + 6 + 8; // state, cpu, mem, disk, load, temp, seen, gaps
  const idWidth = Math.max(12, Math.min(40, Math.floor((o.width - fixed) / 2)));
  const hostWidth = Math.max(8, Math.min(30, o.width - fixed - idWidth));
  const header =
    `${cell("NODE", idWidth)} ${cell("HOST", hostWidth)} ${cell("STATE", 7)} ${cell("CPU", 6, true)} ` +
    `${cell("MEM", 6, true)} ${cell("DISK", 6, true)} ${cell("LOAD", 5, true)} ${cell("TEMP", 6, true)} ${cell("SEEN", 5, true)}`;
  lines.push(paint(ANSI.bold, header));
  // --once (no height) prints decision lines whole, for scripts; a screen cuts them at its width.
  const cut = o.height === undefined ? Number.POSITIVE_INFINITY : o.width;
  const decisions = [...schedulingLines(report), ...decisionLines(model, o.decisions ?? 10, cut)];
  const room =
    o.height === undefined ? shown.length : Math.max(0, o.height - lines.length - decisions.length - 2);
  for (const n of shown.slice(0, room)) {
    const state = paint(ANSI[n.state], cell(n.state, 7));
    lines.push(
      `${cell(n.id, idWidth)} ${cell(n.host, hostWidth)} ${state} ${cell(pct(n.cpu), 6, true)} ${cell(pct(n.mem), 6, true)} ` +
        `${cell(pct(n.disk), 6, true)} ${cell(n.load.toFixed(2), 5, true)} ${cell(n.temp === undefined ? "-" : `${n.temp.toFixed(0)}C`, 6, true)} ` +
        `${cell(ago(n.seenAt, o.now), 5, true)}`,
    );
  }
  if (shown.length > room) lines.push(`… ${shown.length - room} more`);
  lines.push("", ...decisions);
  if (o.footer) lines.push(o.footer);
  return lines.map((l) => l.trimEnd()).join("\n");
}

function schedulingLines(report: FleetReport | undefined): string[] {
  const s = report?.scheduling;
  if (report === undefined) return ["waiting for the coordinator's retained report…"];
  if (s === undefined) return ["scheduling: no decisions reported"];
  const top = (m: Record<string, bigint>, n: number) =>
    Object.entries(m)
      .sort((a, b) => Number(b[1] - a[1]))
      .slice(0, n)
      .map(([k, v]) => `${printable(k)} ${v}`)
      .join(", ");
  const out = [
    `scheduling (last ${s.decisions} decisions): ${s.scheduled} scheduled, ${s.unschedulable} unschedulable, ` +
      `${s.rejected} rejected, ${s.errors} errors; latency p50 ${s.latencyP50Ms.toFixed(1)} ms, p99 ${s.latencyP99Ms.toFixed(1)} ms`,
  ];
  const placements = top(s.placementsPerNode, 5);
  if (placements) out.push(`  placements: ${placements}`);
  const reasons = top(s.unschedulableReasons, 3);
  if (reasons) out.push(`  unschedulable: ${reasons}`);
  return out;
}

/** The last decisions, newest first, one line each: what happened to which pod, where, and why. */
function decisionLines(model: TopModel, limit: number, width: number): string[] {
  const list = model.decisions;
  const fromWeb = model.decisionsFrom === "web";
  // From the report: nothing until the report is in (schedulingLines says so).
  if (list === undefined) return fromWeb ? ["last decisions: reading the web view…"] : [];
  const head = `last decisions (newest first, UTC)${model.decisionsProblem ? `: ${printable(model.decisionsProblem)}` : ":"}`;
  if (list.length === 0) {
    if (model.decisionsProblem) return [head];
    // A coordinator from before the report listed its decisions: only the web view has them.
    const older = !fromWeb && (model.report?.scheduling?.decisions ?? 0n) > 0n;
    return [
      head,
      older
        ? "  none in the report (its coordinator predates them): pass --web http://COORDINATOR:PORT"
        : "  none yet",
    ];
  }
  const out = [head];
  for (const d of list.slice(0, limit)) {
    const line = `  ${decisionLine(d)}`;
    out.push(line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line);
  }
  return out;
}
