// Human-readable explanations: kube-scheduler's FitError text when nothing fits, and a one-line
// reason when something does.

/** Go's sort.Strings order (UTF-8 bytes, i.e. code points), not JavaScript's UTF-16 order. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort above U+E000..U+FFFF in code point order.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** core.ErrNoNodesAvailable. */
export const NO_NODES_MESSAGE = "no nodes available to schedule pods";

/**
 * framework.FitError.Error(): "0/N nodes are available: " then "<count> <reason>" for every distinct
 * reason, sorted as strings (so "10 …" sorts before "2 …", as in Go), joined by ", ", and a period.
 * A node rejected for several reasons (e.g. cpu and memory) counts once under each.
 */
export function fitErrorMessage(totalNodes: number, reasonCounts: ReadonlyMap<string, number>): string {
  if (totalNodes === 0) return NO_NODES_MESSAGE;
  const histogram = [...reasonCounts].map(([reason, count]) => `${count} ${reason}`).sort(compareCodePoints);
  const message = `0/${totalNodes} nodes are available:`;
  return histogram.length === 0 ? message : `${message} ${histogram.join(", ")}.`;
}

/** FitError.Error() when a PreFilter plugin rejected the pod outright. */
export const preFilterFitErrorMessage = (totalNodes: number, preFilterMessage: string): string =>
  `0/${totalNodes} nodes are available: ${preFilterMessage}.`;

export interface ScoreLine {
  readonly plugin: string;
  readonly score: number;
  readonly weight: number;
}

const show = (score: number): string =>
  Number.isInteger(score) ? String(score) : score.toFixed(2).replace(/0$/, "");

/** "node-3: score 87 (least-allocated 90×1, balanced-allocation 80×1); runner-up node-1 82". */
export function scheduledMessage(
  node: string,
  score: number,
  scores: readonly ScoreLine[],
  runnerUp: { readonly node: string; readonly score: number; readonly tie?: string } | undefined,
): string {
  const parts = scores.map((s) => `${s.plugin} ${s.score}×${s.weight}`).join(", ");
  const head = `${node}: score ${show(score)} (${parts || "no score plugins"})`;
  if (runnerUp === undefined) return `${head}; no runner-up`;
  const tie = runnerUp.tie === undefined ? "" : ` (tie broken by ${runnerUp.tie})`;
  return `${head}; runner-up ${runnerUp.node} ${show(runnerUp.score)}${tie}`;
}
