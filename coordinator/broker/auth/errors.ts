// Coded errors of broker authentication. Callers branch on `code`, never on the message text.
import { FleetError } from "../../../common/errors.ts";

export type AuthErrorCode =
  | "K3SF_ERR_PASSWORD_HASH"
  | "K3SF_ERR_USERS_FILE"
  | "K3SF_ERR_USERS_FILE_IO"
  | "K3SF_ERR_USER"
  | "K3SF_ERR_BROKER_TLS"
  | "K3SF_ERR_LISTEN_UNSAFE"
  | "K3SF_ERR_CONNECT_REFUSED"
  | "K3SF_ERR_PUBLISH_REFUSED";

export class AuthError extends FleetError<AuthErrorCode> {}

/** An invalid users file; `problems` lists every problem found, not just the first. */
export class UsersFileError extends AuthError {
  readonly file: string | undefined;
  readonly problems: readonly string[];

  constructor(file: string | undefined, problems: readonly string[]) {
    super("K3SF_ERR_USERS_FILE", `invalid users file${file ? ` ${file}` : ""}: ${problems.join("; ")}`);
    this.file = file;
    this.problems = problems;
  }
}

/** MQTT 3.1.1 CONNACK return codes a refused CONNECT may carry (§3.2.2.3). */
export type ConnackRefusal = 2 | 3 | 4 | 5;

/**
 * A refused CONNECT, in the shape aedes expects from `authenticate`: `returnCode` becomes the CONNACK code.
 * `reason` is the stable refusal reason also counted by `refusals()`.
 */
export class ConnectRefusedError extends AuthError {
  readonly returnCode: ConnackRefusal;
  readonly reason: string;

  constructor(reason: string, returnCode: ConnackRefusal, message: string) {
    super("K3SF_ERR_CONNECT_REFUSED", message);
    this.reason = reason;
    this.returnCode = returnCode;
  }
}
