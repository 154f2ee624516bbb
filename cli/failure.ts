// How a command's failure reads: one line a user can act on for the mistakes we expect (a port in use, a
// wrong file path, a coded error of ours), the stack only for the rest. Shared by k3s-fleet and the bundled agent.

const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
};

/** One line a user can act on; the stack only for errors we did not anticipate. */
export function describeFailure(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === "EADDRINUSE") {
    return `${e.address ?? ""}:${e.port ?? ""} is already in use (another broker?): choose another with --embedded-broker HOST:PORT`;
  }
  if (e?.code === "EACCES" && e.port !== undefined) return `no permission to listen on port ${e.port}`;
  if (typeof e?.code === "string" && e.code.startsWith("K3SF_ERR")) return withCauses(e);
  // An ordinary mistake with a file (a wrong --output or --config path): the path and why, no stack.
  if (typeof e?.path === "string" && typeof e.code === "string" && FILE_ERRORS[e.code]) {
    return `${e.path}: ${FILE_ERRORS[e.code]}`;
  }
  return e instanceof Error ? (e.stack ?? e.message) : String(error);
}

/** A coded error's message and the causes under it that add something ("cannot open X: read-only file system"). */
function withCauses(error: Error): string {
  let text = error.message;
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    const c = cause as NodeJS.ErrnoException;
    // A short one-line cause (SQLite's, a socket's) helps; a validation dump or a response body does not.
    const why = c.code && FILE_ERRORS[c.code] ? FILE_ERRORS[c.code] : c.message;
    const short = why !== undefined && why.length <= 200 && !why.includes("\n") && c.name !== "ZodError";
    if (short && !text.includes(why)) text += `: ${why}`;
    cause = c.cause;
  }
  return text;
}
