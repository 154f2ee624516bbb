// field.ErrorList from k8s.io/apimachinery/pkg/util/validation/field, and errors.NewInvalid that turns it
// into a 422 Status whose message and details.causes read like the real apiserver's.
import { ApiError, failure } from "./status.ts";

type ErrorType = "Required" | "Invalid" | "Duplicate" | "NotSupported" | "Forbidden" | "TooLong";

export interface FieldError {
  type: ErrorType;
  field: string;
  value?: unknown;
  detail: string;
}

const TYPE_TEXT: Record<ErrorType, string> = {
  Required: "Required value",
  Invalid: "Invalid value",
  Duplicate: "Duplicate value",
  NotSupported: "Unsupported value",
  Forbidden: "Forbidden",
  TooLong: "Too long",
};

const CAUSE_REASON: Record<ErrorType, string> = {
  Required: "FieldValueRequired",
  Invalid: "FieldValueInvalid",
  Duplicate: "FieldValueDuplicate",
  NotSupported: "FieldValueNotSupported",
  Forbidden: "FieldValueForbidden",
  TooLong: "FieldValueTooLong",
};

export const required = (field: string, detail = ""): FieldError => ({ type: "Required", field, detail });
export const invalid = (field: string, value: unknown, detail: string): FieldError => ({
  type: "Invalid",
  field,
  value,
  detail,
});
export const duplicate = (field: string, value: unknown): FieldError => ({
  type: "Duplicate",
  field,
  value,
  detail: "",
});
export const notSupported = (field: string, value: unknown, supported: string[]): FieldError => ({
  type: "NotSupported",
  field,
  value,
  detail: `supported values: ${supported.map((v) => JSON.stringify(v)).join(", ")}`,
});
export const forbidden = (field: string, detail: string): FieldError => ({
  type: "Forbidden",
  field,
  detail,
});

/** field.Error.ErrorBody(): `Invalid value: "Foo": a lowercase RFC 1123 ...`. */
export function errorBody(error: FieldError): string {
  let body = TYPE_TEXT[error.type];
  if (error.type !== "Required" && error.type !== "Forbidden" && error.type !== "TooLong") {
    body += `: ${typeof error.value === "number" || typeof error.value === "boolean" ? String(error.value) : JSON.stringify(error.value ?? "")}`;
  }
  return error.detail ? `${body}: ${error.detail}` : body;
}

/** The aggregate's text: one error alone, several as "[a, b]". */
export function aggregateMessage(errors: FieldError[]): string {
  const texts = errors.map((e) => `${e.field}: ${errorBody(e)}`);
  return texts.length === 1 ? (texts[0] ?? "") : `[${texts.join(", ")}]`;
}

/** errors.NewInvalid(GroupKind, name, errs): 422, reason Invalid, one cause per field error. */
export function invalidError(kind: string, name: string, errors: FieldError[], group = ""): ApiError {
  const groupKind = group ? `${kind}.${group}` : kind;
  const details = {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: errors.map((e) => ({ reason: CAUSE_REASON[e.type], message: errorBody(e), field: e.field })),
  };
  return new ApiError(
    failure(422, "Invalid", `${groupKind} "${name}" is invalid: ${aggregateMessage(errors)}`, details),
  );
}
