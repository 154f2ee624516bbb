// Coded errors of the scheduling service. Callers branch on `code`; the underlying error is the `cause`.
import { FleetError } from "../../common/errors.ts";

export type SchedulingErrorCode =
  /** The decision store (node:sqlite) cannot be opened, read or written. */
  | "K3SF_ERR_SCHEDULING_STORE"
  /** A Kubernetes API call made to act on a decision failed; `status` and `reason` say how. */
  | "K3SF_ERR_SCHEDULING_KUBE"
  /** Invalid scheduling settings; `problems` lists every one. */
  | "K3SF_ERR_SCHEDULING_CONFIG";

export class SchedulingError extends FleetError<SchedulingErrorCode> {}

/** A failed Kubernetes API call: HTTP status (undefined for network failures) and the Status reason. */
export class KubeRequestError extends SchedulingError {
  readonly status: number | undefined;
  /** metav1.StatusReason, e.g. "AlreadyExists", "Conflict", "NotFound", "Invalid". */
  readonly reason: string | undefined;
  readonly operation: string;

  constructor(
    operation: string,
    detail: { status?: number; reason?: string; message: string },
    options?: { cause?: unknown },
  ) {
    super("K3SF_ERR_SCHEDULING_KUBE", `${operation}: ${detail.message}`, options);
    this.operation = operation;
    this.status = detail.status;
    this.reason = detail.reason;
  }

  /** The server refused the request for good (4xx other than 409/429): retrying the same call cannot help. */
  get permanent(): boolean {
    const s = this.status;
    return s !== undefined && s >= 400 && s < 500 && s !== 409 && s !== 429 && s !== 408;
  }
}

export class SchedulingConfigError extends SchedulingError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super("K3SF_ERR_SCHEDULING_CONFIG", `invalid scheduling settings: ${problems.join("; ")}`);
    this.problems = problems;
  }
}
