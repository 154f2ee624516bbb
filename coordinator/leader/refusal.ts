// Whether the API server refuses this instance the Lease (401/403: a missing Role, a Lease namespace the
// RBAC does not cover, a revoked token). A refusal is not a passing outage: no replica can lead until
// someone fixes it, so readiness says so instead of reporting a calm "standby (leader: none)".
// Any answer from the server (a success, a 409) clears it; a network failure or a 5xx leaves it as it was.
import { KubeRequestError } from "../placement/errors.ts";
import { type LeaseClient, LeaseConflictError } from "./elector.ts";

export interface RefusalTracked {
  readonly client: LeaseClient;
  /** The last refusal's message while the server keeps refusing; undefined otherwise. */
  refused(): string | undefined;
}

const refusalOf = (err: unknown): string | undefined =>
  err instanceof KubeRequestError && (err.status === 401 || err.status === 403) ? err.message : undefined;

export function trackRefusal(inner: LeaseClient): RefusalTracked {
  let refused: string | undefined;
  async function track<T>(call: () => Promise<T>): Promise<T> {
    try {
      const value = await call();
      refused = undefined;
      return value;
    } catch (err) {
      if (err instanceof LeaseConflictError) refused = undefined;
      else refused = refusalOf(err) ?? refused;
      throw err;
    }
  }
  return {
    client: {
      get: () => track(() => inner.get()),
      create: (record) => track(() => inner.create(record)),
      update: (record, resourceVersion) => track(() => inner.update(record, resourceVersion)),
    },
    refused: () => refused,
  };
}
