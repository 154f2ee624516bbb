// metav1.Status bodies, shaped like k8s.io/apimachinery/pkg/api/errors builds them (NewNotFound,
// NewAlreadyExists, NewConflict, NewInvalid, NewBadRequest, NewResourceExpired, ...). Handlers throw
// ApiError; the server writes `status` as the body with `status.code` as the HTTP status.

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  /** Omitted for errors that were not a StatusError (the apiserver's StatusReasonUnknown is ""). */
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly status: Status;

  constructor(status: Status) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = "ApiError";
    this.status = status;
  }
}

export function failure(
  code: number,
  reason: string | undefined,
  message: string,
  details?: StatusDetails,
): Status {
  // Key order as the apiserver serializes metav1.Status.
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  };
}

export function success(code: number, details?: StatusDetails): Status {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code };
  if (details) status.details = details;
  return status;
}

/** StatusDetails as NewNotFound & co fill them: `kind` holds the resource; an empty group is omitted. */
function detailsFor(resource: string, name: string, group: string): StatusDetails {
  return group ? { name, group, kind: resource } : { name, kind: resource };
}

/** "pods", "events.events.k8s.io": schema.GroupResource.String(). */
export function qualified(resource: string, group = ""): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, name: string, group = ""): ApiError {
  return new ApiError(
    failure(
      404,
      "NotFound",
      `${qualified(resource, group)} "${name}" not found`,
      detailsFor(resource, name, group),
    ),
  );
}

export function alreadyExists(resource: string, name: string, group = ""): ApiError {
  return new ApiError(
    failure(
      409,
      "AlreadyExists",
      `${qualified(resource, group)} "${name}" already exists`,
      detailsFor(resource, name, group),
    ),
  );
}

/** errors.NewConflict: "Operation cannot be fulfilled on pods "x": <why>". */
export function conflict(resource: string, name: string, why: string, group = ""): ApiError {
  return new ApiError(
    failure(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`,
      detailsFor(resource, name, group),
    ),
  );
}

export const MODIFIED_CONFLICT =
  "the object has been modified; please apply your changes to the latest version and try again";

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, "BadRequest", message));
}

export function unauthorized(): ApiError {
  return new ApiError(failure(401, "Unauthorized", "Unauthorized"));
}

/** The apiserver's NotFound handler for paths no API group serves. */
/** An ApiError that means "the fake has no such endpoint" (unknown path, or a method the path lacks). */
export function isUnrouted(err: unknown): boolean {
  return (
    err instanceof ApiError &&
    (err.status.reason === "MethodNotAllowed" ||
      (err.status.reason === "NotFound" && err.status.message === PATH_NOT_FOUND))
  );
}

const PATH_NOT_FOUND = "the server could not find the requested resource";

export function pathNotFound(): ApiError {
  return new ApiError(failure(404, "NotFound", PATH_NOT_FOUND, {}));
}

export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(
    failure(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
      contentType ? { causes: [{ reason: "", message: contentType, field: "" }] } : undefined,
    ),
  );
}

export function methodNotAllowed(): ApiError {
  return new ApiError(
    failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}),
  );
}

/** errors.NewResourceExpired: what a watch from a compacted resourceVersion receives as an ERROR event. */
export function expired(message: string): ApiError {
  return new ApiError(failure(410, "Expired", message));
}

/** storage.NewTooLargeResourceVersionError, as the watch cache returns it. */
export function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return new ApiError(
    failure(504, "Timeout", `Too large resource version: ${requested}, current: ${current}`, {
      causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version", field: "" }],
      retryAfterSeconds: 1,
    }),
  );
}

/** An error that reached the apiserver's handler as a plain Go error: 500, no reason. */
export function internalUnknown(message: string): ApiError {
  return new ApiError(failure(500, undefined, message));
}

/** Default reasons, for injected faults (metav1.StatusReason* by HTTP code). */
export function reasonForCode(code: number): string | undefined {
  const reasons: Record<number, string> = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
  };
  return reasons[code];
}
