// One-shot client commands (`report`, `schedule`) give up at once, with the reason, when the broker cannot
// be reached or refuses them: waiting out --timeout to say "no report" would hide the real problem.

/** Node's codes for a server certificate that fails verification. */
const UNTRUSTED_CERTIFICATE = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

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
  // Neither passes by waiting: a plain-MQTT port behind mqtts://, or a certificate nothing here trusts.
  if (code === "ECONNRESET" && /before secure TLS connection/.test(error.message)) {
    return `no TLS handshake with ${url}: does the broker listen with TLS on that port? (mqtt:// is plain MQTT)`;
  }
  if (typeof code === "string" && UNTRUSTED_CERTIFICATE.has(code)) {
    return `${url}: the broker's certificate is not trusted (${error.message}): name its CA with broker.caFile`;
  }
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
