// One coded error for the whole product. Callers branch on `code` (a union per area, e.g.
// SchedulingErrorCode), never on the message; the underlying error is the `cause`. Areas that carry more
// (an HTTP status, a list of problems) extend it with fields, not with a new base.
export class FleetError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `error` is a FleetError, with `code` when given. */
export function isFleetError<Code extends string>(error: unknown, code?: Code): error is FleetError<Code> {
  return error instanceof FleetError && (code === undefined || error.code === code);
}
