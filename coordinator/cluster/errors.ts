// Coded errors of the Kubernetes edge. Callers branch on `code`; the underlying error is the `cause`.
import { FleetError } from "../../common/errors.ts";

export type ClusterErrorCode =
  /** The kubeconfig (or in-cluster service account) could not be read or has no usable cluster. */
  | "K3SF_ERR_KUBE_CONFIG"
  /** The API server did not answer GET /version in time, or refused us. */
  | "K3SF_ERR_KUBE_UNREACHABLE"
  /** An informer stopped (failed list, non-410 watch error, dropped connection); it is being restarted. */
  | "K3SF_ERR_KUBE_INFORMER"
  /** A metrics.k8s.io scrape failed for a reason other than the API group being absent. */
  | "K3SF_ERR_KUBE_METRICS";

export class ClusterError extends FleetError<ClusterErrorCode> {}

/**
 * A short, single-line reason for logs: the HTTP status client-node reports (`code` on ApiException,
 * `statusCode` on watch errors), else the deepest system error code (ECONNREFUSED, CERT_..., ENOENT),
 * else the message.
 */
export function describeError(err: unknown): string {
  const http = httpStatusOf(err);
  if (http !== undefined) {
    const message = statusMessage(err);
    return message ? `HTTP ${http}: ${message}` : `HTTP ${http}`;
  }
  let current: unknown = err;
  let message: string | undefined;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (typeof current !== "object") return message ?? String(current);
    const e = current as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown };
    if (typeof e.code === "string" && e.code.length > 0 && !e.code.startsWith("K3SF_ERR")) {
      return typeof e.message === "string" && e.message.length > 0 ? `${e.code}: ${e.message}` : e.code;
    }
    if (e.name === "TimeoutError" || e.name === "AbortError") return `timed out (${String(e.message)})`;
    if (typeof e.message === "string" && e.message.length > 0) message ??= e.message;
    current = e.cause;
  }
  return message ?? String(err);
}

/** The HTTP status of a client-node failure: ApiException.code (number) or a watch error's statusCode. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  // A range check, because DOMException carries small legacy numeric codes (TimeoutError is 23).
  const isHttp = (v: unknown): v is number => typeof v === "number" && v >= 100 && v <= 599;
  if (isHttp(e.statusCode)) return e.statusCode;
  if (isHttp(e.code)) return e.code;
  return undefined;
}

// client-node 2.x hands error bodies over as the raw JSON text of the Status (or an object, or nothing).
function statusMessage(err: unknown): string | undefined {
  const body = (err as { body?: unknown }).body;
  let status: unknown = body;
  if (typeof body === "string") {
    try {
      status = JSON.parse(body);
    } catch {
      return body.length > 0 && body.length < 200 ? body : undefined;
    }
  }
  if (typeof status === "object" && status !== null) {
    const message = (status as { message?: unknown }).message;
    if (typeof message === "string" && message.length > 0) return message;
  }
  const own = (err as { message?: unknown }).message;
  if (typeof own !== "string" || own.length === 0) return undefined;
  // ApiException's message is "HTTP-Code: 404\nMessage: ...\nBody: ...\nHeaders: ...": keep the Message line.
  if (own.startsWith("HTTP-Code")) return /^Message: (.*)$/m.exec(own)?.[1];
  return own;
}
