// kube-scheduler NodeAffinity Score: the sum of the weights of the preferred terms a node matches,
// normalized so the best node scores 100; the profile's added preferred terms count as the pod's own.
// Skipped when there are no preferred terms at all.
import { addedAffinityOf } from "../added-affinity.ts";
import { type PluginContext, type ScorePlugin, scoreEach } from "../plugins.ts";
import { type ColumnTerm, matchColumnTerm } from "../selectors.ts";
import { bindTermToSnapshot } from "../snapshot.ts";
import { defaultNormalizeScore } from "./normalize.ts";

export type AffinityScoreState = ReadonlyArray<{ readonly term: ColumnTerm; readonly weight: number }>;

/** The pod's preferred terms and the profile's added ones (node_affinity.go Score); undefined: PreScore Skip. */
export function prepareAffinityScore({
  pod,
  snapshot,
  config,
}: PluginContext): AffinityScoreState | undefined {
  const terms = [...addedAffinityOf(config).preferred, ...(pod.preferredTerms ?? [])];
  if (terms.length === 0) return undefined;
  return terms.map(({ term, weight }) => ({ term: bindTermToSnapshot(snapshot, term), weight }));
}

export function affinityScoreAt(terms: AffinityScoreState, i: number): number {
  let sum = 0;
  for (const { term, weight } of terms) if (matchColumnTerm(term, i)) sum += weight;
  return sum;
}

export const nodeAffinityScore: ScorePlugin = {
  name: "node-affinity",
  weight: (c) => c.weights.nodeAffinity,
  scoreAll: (feasible, count, out, ctx) =>
    scoreEach(prepareAffinityScore(ctx), affinityScoreAt, feasible, count, out),
  normalize: (scores, count) => defaultNormalizeScore(scores, count, false),
};
