// Reads the Status a client-node ApiException carries. client-node 2.x hands error bodies over as the raw
// response text (a JSON string), or undefined for codes its OpenAPI spec lists (e.g. 401), so callers that
// branch on `reason` must parse it themselves — as the coordinator has to.
import { ApiException } from "@kubernetes/client-node";
import type { Status } from "./status.ts";

export interface ClientFailure {
  code: number;
  status?: Status;
}

export function clientFailure(err: unknown): ClientFailure {
  if (!(err instanceof ApiException)) throw err;
  const body: unknown = err.body;
  let status: Status | undefined;
  if (typeof body === "string") {
    try {
      status = JSON.parse(body) as Status;
    } catch {}
  } else if (typeof body === "object" && body !== null && (body as { kind?: unknown }).kind === "Status") {
    status = body as Status;
  }
  return status ? { code: err.code, status } : { code: err.code };
}

/** Awaits `promise`, expecting it to reject with an ApiException; returns its code and Status. */
export async function failureOf(promise: Promise<unknown>): Promise<ClientFailure> {
  try {
    await promise;
  } catch (err) {
    return clientFailure(err);
  }
  throw new Error("expected the request to fail");
}
