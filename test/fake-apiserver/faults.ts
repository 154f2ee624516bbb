// Fault injection: fail the next matching requests with a proper Status body, slow matching requests
// down, or cut every open watch stream. Rules match on the HTTP method and on the request path plus
// query ("/api/v1/nodes?watch=true"): a string pattern matches as a substring, a RegExp by test().
import { failure, reasonForCode, type Status } from "./status.ts";
import type { DropMode } from "./watch.ts";

export interface FailRule {
  method?: string;
  pathPattern?: string | RegExp;
  status: number;
  /** How many matching requests fail; default 1. */
  count?: number;
  message?: string;
  reason?: string;
  /** Adds details.retryAfterSeconds and a Retry-After header (as 429 / 503 responses carry). */
  retryAfterSeconds?: number;
}

export interface DelayRule {
  method?: string;
  pathPattern?: string | RegExp;
  ms: number;
  /** How many matching requests are delayed; default: all until reset(). */
  count?: number;
}

interface Counted<T> {
  rule: T;
  remaining: number;
}

function matches(
  rule: { method?: string; pathPattern?: string | RegExp },
  method: string,
  url: string,
): boolean {
  if (rule.method && rule.method.toUpperCase() !== method) return false;
  const pattern = rule.pathPattern;
  if (pattern === undefined) return true;
  return typeof pattern === "string" ? url.includes(pattern) : pattern.test(url);
}

function defaultMessage(code: number): string {
  if (code === 429) return "Too many requests, please try again later.";
  if (code === 503) return "the server is currently unable to handle the request";
  if (code === 504)
    return "the server was unable to return a response in the time allotted, but may still be processing the request";
  if (code === 409)
    return "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again";
  return `Internal error occurred: injected fault (HTTP ${code})`;
}

export class Faults {
  readonly #fails: Counted<FailRule>[] = [];
  readonly #delays: Counted<DelayRule>[] = [];
  readonly #drop: (mode: DropMode) => number;

  constructor(drop: (mode: DropMode) => number) {
    this.#drop = drop;
  }

  /** The next `count` (default 1) matching requests get `status` with a Status body instead of being served. */
  failNext(rule: FailRule): void {
    this.#fails.push({ rule, remaining: rule.count ?? 1 });
  }

  /** Matching requests wait `ms` before being served (watches: before the stream opens). */
  delay(rule: DelayRule): void {
    this.#delays.push({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY });
  }

  /** Ends every open watch stream now; "reset" (default) destroys the socket, "end" closes it cleanly. */
  dropWatches(mode: DropMode = "reset"): number {
    return this.#drop(mode);
  }

  reset(): void {
    this.#fails.length = 0;
    this.#delays.length = 0;
  }

  /** Consumes the first matching fail rule, if any, as the Status to answer with. */
  takeFailure(method: string, url: string): Status | undefined {
    const entry = this.#fails.find((f) => f.remaining > 0 && matches(f.rule, method, url));
    if (!entry) return undefined;
    entry.remaining -= 1;
    const { rule } = entry;
    const reason = rule.reason ?? reasonForCode(rule.status);
    const details =
      rule.retryAfterSeconds !== undefined ? { retryAfterSeconds: rule.retryAfterSeconds } : undefined;
    return failure(rule.status, reason, rule.message ?? defaultMessage(rule.status), details);
  }

  /** Total delay for this request, consuming one use of each matching delay rule. */
  takeDelay(method: string, url: string): number {
    let ms = 0;
    for (const entry of this.#delays) {
      if (entry.remaining > 0 && matches(entry.rule, method, url)) {
        entry.remaining -= 1;
        ms += entry.rule.ms;
      }
    }
    return ms;
  }
}
