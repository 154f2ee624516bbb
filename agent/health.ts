// Internet reachability: a TCP connect to a configured host:port within a timeout. A connect proves a
// route, DNS-free when the target is an address, and needs no ICMP privileges (ping does).
import net from "node:net";
import { AgentError } from "./errors.ts";

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port" or "[v6]:port"; undefined when it is neither. */
export function parseHostPort(target: string): HostPort | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** True when a TCP connection to the target opens within `timeoutMs`; never throws. */
export function canConnect(target: HostPort, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    // The timer covers DNS resolution and the handshake together; socket.setTimeout would not.
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export interface InternetProbeOptions {
  /** host:port to connect to; undefined disables the probe (it then reports false). */
  target?: string;
  timeoutMs: number;
  /** Minimum time between probes: a sample reads the cached answer instead of paying a connect. */
  everyMs: number;
  /** Monotonic clock in ms. */
  monotonic?: () => number;
  connect?: (target: HostPort, timeoutMs: number) => Promise<boolean>;
}

export interface InternetProbe {
  /**
   * The last answer (false before the first; undefined when no target is configured, so "not checked"
   * stays distinguishable from "unreachable"); starts a fresh probe in the background when it is stale.
   */
  latest(): boolean | undefined;
  /** Probes now, or joins the probe in flight. */
  check(): Promise<boolean>;
}

export function createInternetProbe(options: InternetProbeOptions): InternetProbe {
  const monotonic = options.monotonic ?? (() => performance.now());
  const connect = options.connect ?? canConnect;
  const target = options.target === undefined ? undefined : parseHostPort(options.target);
  if (options.target !== undefined && target === undefined) {
    throw new AgentError("K3SF_ERR_HEALTH_TARGET", `internet target "${options.target}" is not host:port`);
  }
  let answer = false;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<boolean> | undefined;

  const check = (): Promise<boolean> => {
    if (target === undefined) return Promise.resolve(false);
    inFlight ??= connect(target, options.timeoutMs)
      .catch(() => false)
      .then((ok) => {
        answer = ok;
        checkedAt = monotonic();
        inFlight = undefined;
        return ok;
      });
    return inFlight;
  };

  return {
    latest() {
      if (target === undefined) return undefined;
      if (inFlight === undefined && monotonic() - checkedAt >= options.everyMs) void check();
      return answer;
    },
    check,
  };
}
