// Any failure of a Kubernetes API call as a KubeRequestError: HTTP status and Status reason when the server
// answered, the message otherwise. Kept apart from kube.ts and free of @kubernetes/client-node values, so
// the decision path (which classifies errors) loads no Kubernetes client in a standalone coordinator.
import { KubeRequestError } from "./errors.ts";

interface StatusBody {
  reason?: string;
  message?: string;
}

/** client-node's ApiException, recognised by shape (`code` number, `body`, `headers`) rather than class. */
interface ApiExceptionLike extends Error {
  code: number;
  body: unknown;
}

function isApiException(err: unknown): err is ApiExceptionLike {
  return (
    err instanceof Error &&
    typeof (err as { code?: unknown }).code === "number" &&
    "body" in err &&
    "headers" in err
  );
}

function statusBody(body: unknown): StatusBody | undefined {
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.length > 0 ? { message: body.slice(0, 300) } : undefined;
    }
  }
  return typeof parsed === "object" && parsed !== null ? (parsed as StatusBody) : undefined;
}

/** Any client-node failure as a KubeRequestError (status and reason from the Status body when there is one). */
export function kubeError(operation: string, err: unknown): KubeRequestError {
  if (err instanceof KubeRequestError) return err;
  if (isApiException(err)) {
    const status = statusBody(err.body);
    return new KubeRequestError(
      operation,
      { status: err.code, reason: status?.reason, message: status?.message ?? `HTTP ${err.code}` },
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KubeRequestError(operation, { message }, { cause: err });
}
