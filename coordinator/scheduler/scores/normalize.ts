// helper.DefaultNormalizeScore (pkg/scheduler/framework/plugins/helper/normalize_score.go): scale
// [0, max] to [0, 100] with int64 division; `reverse` subtracts from 100. All zero → 0 (or 100 reversed).
import { MAX_NODE_SCORE } from "../plugins.ts";

export function defaultNormalizeScore(scores: Float64Array, count: number, reverse: boolean): void {
  let max = 0;
  for (let i = 0; i < count; i++) if ((scores[i] as number) > max) max = scores[i] as number;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE, 0, count);
    return;
  }
  for (let i = 0; i < count; i++) {
    const s = Math.trunc((MAX_NODE_SCORE * (scores[i] as number)) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}
