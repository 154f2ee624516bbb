// One-shot client commands (`report`, `schedule`) give up at once, with the reason, when the broker cannot
// be reached or refuses them: waiting out --timeout to say "no report" would hide the real problem.

/** A one-line reason to stop now, or undefined when the failure may pass (retry until --timeout). */
export function connectFailure(error: Error | undefined, url: string, username?: string): string | undefined {
  if (error === undefined) return undefined;
  const code = (error as { code?: unknown }).code;
  const who = username ? `user "${username}"` : "anonymous clients";
  if (code === 4 || code === 134) return `${url} refused ${who}: bad user name or password`;
  if (code === 5 || code === 135)
    return `${url} refused ${who}: not authorized (check --username / --password)`;
  if (code === "ECONNREFUSED") return `nothing accepts MQTT connections at ${url} (is the broker running?)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve the broker host in ${url}`;
  return undefined;
}

/** Why a subscription was refused (SUBACK 0x80), or undefined when every filter was granted. */
export function refusedSubscription(
  granted: readonly number[],
  filters: readonly string[],
): string | undefined {
  const refused = filters.filter((_, i) => (granted[i] ?? 0) >= 0x80);
  return refused.length === 0 ? undefined : `the broker refused the subscription to ${refused.join(", ")}`;
}
