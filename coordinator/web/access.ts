// Who may read the web view. On a loopback listener with nothing configured, anyone on the machine may;
// otherwise a request needs the bearer token (`Authorization: Bearer …`, or HTTP basic with the token as
// password) or HTTP basic as a users-file account with the viewer or coordinator role. Basic sends the
// password in the clear: a listener off loopback belongs behind TLS (a reverse proxy). Password checks go
// through the broker's check gate (a few at once, back-off after failures per address and user), so the
// web view is no faster a way to guess a password than an MQTT CONNECT.
import { createHash, timingSafeEqual } from "node:crypto";
import {
  CHECK_GATE_BOUNDS,
  type CheckGateOptions,
  type CheckGateSettings,
  createCheckGate,
} from "../broker/auth/check-gate.ts";
import { verifyPassword } from "../broker/auth/password.ts";
import type { UsersTable } from "../broker/auth/users.ts";

export interface AccessOptions {
  /** The listener's host: loopback needs no credentials unless some are configured. */
  host: string;
  token?: string;
  users?: UsersTable;
  now?: () => number;
  /** Bounds on password checks (the broker's CHECK_GATE_BOUNDS and WEB_LOGIN_CHECKS unless set). */
  checkGate?: Partial<Omit<CheckGateOptions, "now">>;
}

/**
 * Web-view logins are a few operators, not a fleet: one password check at a time, a short queue, so a
 * guessing client costs at most one of the machine's cores however fast it asks.
 */
const WEB_LOGIN_CHECKS: CheckGateSettings = { concurrency: 1, maxQueued: 8 };

export type AccessResult = "allowed" | "unauthorized" | "forbidden";

export interface Access {
  /** "forbidden": off loopback with no token and no users file, so the view is not served at all. */
  /** `address`: the client's, for the per-address bounds on password checks. */
  check(authorization: string | undefined, address?: string): Promise<AccessResult>;
  readonly open: boolean;
}

const VIEW_ROLES = new Set(["viewer", "coordinator"]);
/** Verified credentials are remembered this long, so each asset does not pay a scrypt. */
const REMEMBER_MS = 60_000;
const REMEMBER_MAX = 256;

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::ffff:127.0.0.1";
}

export function createAccess(options: AccessOptions): Access {
  const { token, users } = options;
  const now = options.now ?? Date.now;
  const configured = (token !== undefined && token !== "") || (users !== undefined && users.size > 0);
  const open = !configured && isLoopback(options.host);
  const remembered = new Map<string, number>();
  const tokenDigest = token ? digest(token) : undefined;

  const tokenMatches = (candidate: string) =>
    tokenDigest !== undefined && timingSafeEqual(digest(candidate), tokenDigest);

  const gate = createCheckGate({
    ...CHECK_GATE_BOUNDS,
    ...WEB_LOGIN_CHECKS,
    now: () => performance.now(),
    ...options.checkGate,
  });

  async function verifyBasic(user: string, password: string, address: string): Promise<boolean> {
    if (tokenMatches(password)) return true;
    const entry = users?.get(user);
    if (entry === undefined || entry.credential.kind !== "password" || !VIEW_ROLES.has(entry.role))
      return false;
    const { hash } = entry.credential;
    const outcome = await gate.check({
      address,
      username: user,
      known: true,
      password: Buffer.from(password),
      verify: () => verifyPassword(password, hash),
      alive: () => true,
    });
    return outcome === "ok";
  }

  return {
    open,
    async check(authorization, address = "unknown") {
      if (open) return "allowed";
      if (!configured) return "forbidden";
      if (authorization === undefined) return "unauthorized";
      const key = digest(authorization).toString("base64");
      const until = remembered.get(key);
      if (until !== undefined && until > now()) return "allowed";
      const [scheme, value = ""] = authorization.trim().split(/\s+/, 2);
      let ok = false;
      if (scheme?.toLowerCase() === "bearer") ok = tokenMatches(value);
      else if (scheme?.toLowerCase() === "basic") {
        const decoded = Buffer.from(value, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon > 0 || (colon === 0 && tokenDigest))
          ok = await verifyBasic(decoded.slice(0, colon), decoded.slice(colon + 1), address);
      }
      if (!ok) return "unauthorized";
      if (remembered.size >= REMEMBER_MAX) remembered.clear();
      remembered.set(key, now() + REMEMBER_MS);
      return "allowed";
    },
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
