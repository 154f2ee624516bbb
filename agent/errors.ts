// The agent's coded errors: a stable `code` for callers and logs, the underlying error as `cause`.
import { FleetError } from "../common/errors.ts";

export type AgentErrorCode =
  | "K3SF_ERR_AGENT_OPTIONS"
  | "K3SF_ERR_SESSION_STORE"
  | "K3SF_ERR_SAMPLE"
  | "K3SF_ERR_HEALTH_TARGET"
  | "K3SF_ERR_INSTALL_ID"
  | "K3SF_ERR_NODE_ID_CONFLICT";

export class AgentError extends FleetError<AgentErrorCode> {
  /** Every problem found, when the error reports more than one (invalid options). */
  readonly problems: readonly string[];

  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown; problems?: string[] }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.problems = options?.problems ?? [message];
  }
}
