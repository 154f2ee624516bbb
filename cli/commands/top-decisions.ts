// `k3s-fleet top --web URL`'s last decisions. The retained report lists the last 10 (scheduling.recent);
// the coordinator's web view (`GET /api/decisions`, the same list its Scheduling page shows) has its whole
// window, read with the HTTP token or the viewer's user name and password. The edge (fetch) is injected;
// parsing is checked.
import { z } from "zod";
import { FleetError } from "../../common/errors.ts";

export type TopDecisionsErrorCode = "K3SF_ERR_TOP_DECISIONS";

/** What a decision line shows; the rest of the web view's record is ignored. */
const decisionSchema = z.object({
  id: z.number(),
  at: z.number(),
  source: z.string(),
  pod: z.string(),
  requestId: z.string(),
  status: z.string(),
  node: z.string(),
  score: z.number(),
  reasons: z.array(z.string()),
  latencyMs: z.number(),
  dryRun: z.boolean(),
  advisory: z.boolean(),
  runnerUp: z.object({ node: z.string(), score: z.number() }).nullish(),
  message: z.string().optional(),
});
const answerSchema = z.object({ decisions: z.array(decisionSchema) });

export type TopDecision = z.infer<typeof decisionSchema>;

export interface DecisionsSource {
  /** The coordinator's HTTP address, e.g. http://127.0.0.1:9464. */
  url: string;
  /** The web view's bearer token (http.token), if any. */
  token?: string;
  /** HTTP basic (users file viewer), used when there is no token. */
  username?: string;
  password?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** The newest `limit` decisions, newest first. Throws FleetError K3SF_ERR_TOP_DECISIONS, saying why. */
export async function fetchDecisions(source: DecisionsSource, limit: number): Promise<TopDecision[]> {
  const fail = (why: string, cause?: unknown) =>
    new FleetError<TopDecisionsErrorCode>("K3SF_ERR_TOP_DECISIONS", `cannot read decisions: ${why}`, {
      cause,
    });
  let url: URL;
  try {
    url = new URL("/api/decisions", source.url);
  } catch (cause) {
    throw fail(`--web ${JSON.stringify(source.url)} is not a URL (e.g. http://coordinator:9464)`, cause);
  }
  const headers: Record<string, string> = { accept: "application/json" };
  if (source.token) headers.authorization = `Bearer ${source.token}`;
  else if (source.username !== undefined && source.password !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${source.username}:${source.password}`).toString("base64")}`;
  let res: Response;
  try {
    res = await (source.fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(source.timeoutMs) });
  } catch (cause) {
    throw fail(`${url.origin} did not answer (${(cause as Error).message})`, cause);
  }
  if (!res.ok) {
    await res.body?.cancel();
    const hint = res.status === 401 || res.status === 403 ? " (needs http.token or a viewer account)" : "";
    throw fail(`${url.origin} answered HTTP ${res.status}${hint}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (cause) {
    throw fail(`${url.origin} did not answer JSON`, cause);
  }
  const parsed = answerSchema.safeParse(body);
  if (!parsed.success) throw fail(`unexpected answer from ${url.origin}: ${parsed.error.issues[0]?.message}`);
  return parsed.data.decisions.slice(-limit).reverse();
}
