// Coded errors of the scheduling engine. Callers branch on `code`, never on the message text.
import { FleetError } from "../../common/errors.ts";

export type SchedulerErrorCode =
  | "K3SF_ERR_QUANTITY"
  | "K3SF_ERR_SCHEDULER_CONFIG"
  | "K3SF_ERR_SNAPSHOT"
  | "K3SF_ERR_POD_SPEC";

export class SchedulerError extends FleetError<SchedulerErrorCode> {}

/** A resource quantity string that Kubernetes' resource.ParseQuantity would reject (or that we refuse). */
export class QuantityError extends SchedulerError {
  readonly input: string;

  constructor(input: string, reason: string, options?: { cause?: unknown }) {
    super("K3SF_ERR_QUANTITY", `invalid quantity ${JSON.stringify(input)}: ${reason}`, options);
    this.input = input;
  }
}

/** Invalid scheduler configuration; `problems` lists every problem found, not just the first. */
export class SchedulerConfigError extends SchedulerError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super("K3SF_ERR_SCHEDULER_CONFIG", `invalid scheduler config: ${problems.join("; ")}`);
    this.problems = problems;
  }
}

/** A snapshot that cannot be built or mutated as asked (duplicate node, unknown node, bad resources). */
export class SnapshotError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("K3SF_ERR_SNAPSHOT", message, options);
  }
}

/** A pod field the API server's validation would reject (e.g. an invalid pod affinity label selector). */
export class PodSpecError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("K3SF_ERR_POD_SPEC", message, options);
  }
}
