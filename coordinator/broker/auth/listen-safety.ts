// Safe defaults: anonymous clients only on loopback. Pure functions of a host string.
import { BlockList, isIPv4, isIPv6 } from "node:net";
import { AuthError } from "./errors.ts";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** True for 127.0.0.0/8, ::1 (and IPv4-mapped ::ffff:127.x.y.z) and `localhost`; brackets are ignored. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase();
  if (h === "localhost") return true;
  if (isIPv4(h)) return LOOPBACK.check(h, "ipv4");
  if (isIPv6(h)) return LOOPBACK.check(h, "ipv6");
  return false;
}

/**
 * Why the embedded broker must not start on `host`, or undefined. Without a users file every client is
 * anonymous and allowed everything, which is only acceptable when nobody else can reach the port.
 */
export function checkListenSafety({
  host,
  authConfigured,
}: {
  host: string;
  authConfigured: boolean;
}): string | undefined {
  if (authConfigured || isLoopbackHost(host)) return undefined;
  const shown = host === "" ? "all interfaces" : host;
  return (
    `refusing to start the embedded MQTT broker on ${shown} without authentication: anyone who can reach it ` +
    "could publish telemetry and schedule requests. Configure broker.usersFile (create users with " +
    "`k3s-fleet passwd`), or listen on 127.0.0.1."
  );
}

/** `checkListenSafety` as a coded error, for callers that start the broker. */
export function assertListenSafe(options: { host: string; authConfigured: boolean }): void {
  const problem = checkListenSafety(options);
  if (problem) throw new AuthError("K3SF_ERR_LISTEN_UNSAFE", problem);
}
