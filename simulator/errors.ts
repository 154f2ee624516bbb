// The simulator's coded errors: a stable `code` for callers and logs, the underlying error as `cause`.
import { FleetError } from "../common/errors.ts";

export type SimulatorErrorCode =
  | "K3SF_ERR_SIM_OPTIONS"
  | "K3SF_ERR_SIM_REFUSED"
  | "K3SF_ERR_SIM_CONNECT_TIMEOUT"
  | "K3SF_ERR_SIM_PING_TIMEOUT"
  | "K3SF_ERR_SIM_PROTOCOL"
  /** The broker closed the connection without saying why (shutdown, client id taken over, overload). */
  | "K3SF_ERR_SIM_CLOSED";

export class SimulatorError extends FleetError<SimulatorErrorCode> {
  /** Every problem found, when the error reports more than one (invalid options). */
  readonly problems: readonly string[];

  constructor(code: SimulatorErrorCode, message: string, options?: { cause?: unknown; problems?: string[] }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.problems = options?.problems ?? [message];
  }
}
