// Every telemetry message one node's samples arrived as, in arrival order, and what that proves: each
// (session, seq) names one sample; after dropping repeats each session's seqs run 1..max with no hole; how
// many were repeats and how many were replayed. Fed from what a coordinator actually received.
import { decode, type MessageOf, parseTopic, timestampMs } from "../../proto/index.ts";

export interface LedgerEntry {
  session: bigint;
  seq: bigint;
  /** The sample's own time (agent clock, ms): tells two samples apart. */
  timeMs: number;
  historical: boolean;
}

export interface LedgerSummary {
  received: number;
  /** Distinct (session, seq). */
  distinct: number;
  /** Repeats of an identity already seen (what the coordinator must drop). */
  duplicates: number;
  /** Identities seen with two different sample times: exactly-once would be broken. */
  conflicts: number;
  /** Sessions with telemetry, ascending, and for each the seqs missing from 1..max. */
  sessions: { session: bigint; max: bigint; holes: bigint[] }[];
  /** Distinct identities that arrived flagged historical at least once. */
  historical: number;
  /** Sample times of the distinct identities. */
  times: Set<number>;
}

export class TelemetryLedger {
  readonly nodeId: string;
  readonly entries: LedgerEntry[] = [];
  readonly #root: string;

  constructor(root: string, nodeId: string) {
    this.#root = root;
    this.nodeId = nodeId;
  }

  /** A message handler (e.g. for `Link.onMessage`) that records this node's telemetry. */
  readonly handler = (topic: string, payload: Buffer): void => {
    const parsed = parseTopic(this.#root, topic);
    if (!parsed.ok || parsed.topic.kind !== "telemetry" || parsed.topic.nodeId !== this.nodeId) return;
    const result = decode("telemetry", payload);
    if (result.ok) this.record(result.message);
  };

  record(t: MessageOf<"telemetry">): void {
    this.entries.push({
      session: t.session,
      seq: t.seq,
      timeMs: timestampMs(t.time) ?? Number.NaN,
      historical: t.historical,
    });
  }

  has(timeMs: number): boolean {
    return this.entries.some((e) => e.timeMs === timeMs);
  }

  summary(): LedgerSummary {
    const byId = new Map<string, LedgerEntry>();
    const historical = new Set<string>();
    let conflicts = 0;
    for (const e of this.entries) {
      const id = `${e.session}/${e.seq}`;
      const known = byId.get(id);
      if (known && known.timeMs !== e.timeMs) conflicts++;
      if (!known) byId.set(id, e);
      if (e.historical) historical.add(id);
    }
    const seqs = new Map<bigint, Set<bigint>>();
    for (const e of byId.values()) {
      const set = seqs.get(e.session) ?? new Set<bigint>();
      set.add(e.seq);
      seqs.set(e.session, set);
    }
    const sessions = [...seqs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([session, set]) => {
        let max = 0n;
        for (const s of set) if (s > max) max = s;
        const holes: bigint[] = [];
        for (let s = 1n; s <= max; s++) if (!set.has(s)) holes.push(s);
        return { session, max, holes };
      });
    return {
      received: this.entries.length,
      distinct: byId.size,
      duplicates: this.entries.length - byId.size,
      conflicts,
      sessions,
      historical: historical.size,
      times: new Set([...byId.values()].map((e) => e.timeMs)),
    };
  }
}
