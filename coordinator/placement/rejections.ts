// What a decision record keeps of an unschedulable decision's per-node filter reasons: the first nodes
// (node → filter → reason) in full, and for the rest only how many nodes each reason rejected, so a record
// stays small at 10,000 nodes. Pure.

/** Nodes listed in full; the rest are counted per reason. */
export const LISTED_REJECTIONS = 50;

export interface NodeRejectionRecord {
  readonly node: string;
  readonly filter: string;
  readonly reason: string;
}

export interface RejectionSummary {
  /** Nodes rejected in all. */
  readonly total: number;
  /** The first LISTED_REJECTIONS of them, in the engine's (node) order. */
  readonly nodes: readonly NodeRejectionRecord[];
  /** The rest: reason (as the filter gave it, e.g. "Insufficient cpu, Insufficient memory") → nodes. */
  readonly more: Readonly<Record<string, number>>;
}

export function summariseRejections(
  rejections: readonly NodeRejectionRecord[],
  limit: number = LISTED_REJECTIONS,
): RejectionSummary {
  const nodes = rejections.slice(0, limit).map((r) => ({ node: r.node, filter: r.filter, reason: r.reason }));
  // A Map, then own properties: a reason such as "__proto__" stays a key.
  const more = new Map<string, number>();
  for (let i = limit; i < rejections.length; i++) {
    const reason = (rejections[i] as NodeRejectionRecord).reason;
    more.set(reason, (more.get(reason) ?? 0) + 1);
  }
  return { total: rejections.length, nodes, more: Object.fromEntries(more) };
}

/** A stored summary read back (JSON from the store); anything malformed reads as none. */
export function parseRejectionSummary(json: string | null): RejectionSummary | undefined {
  if (json === null || json === "") return undefined;
  try {
    const v = JSON.parse(json) as Partial<RejectionSummary> | null;
    if (v === null || typeof v !== "object" || !Array.isArray(v.nodes) || typeof v.total !== "number")
      return undefined;
    const more = v.more !== null && typeof v.more === "object" ? v.more : {};
    return { total: v.total, nodes: v.nodes, more };
  } catch {
    return undefined;
  }
}
