// What the fuzz found, kept as regression cases: exact payloads (minimised by hand from the failing run) and
// the seeds that found them. test/fuzz-regressions.test.ts replays every case through the broker limits, the
// coordinator's ingest and a report; `open` cases are bugs outside the fuzz owner's files, asserted as known
// failures until fixed (then flip them to `fixed`), and kept out of the big fuzz run by `knownBugFilter` so
// it can look for new ones.
import { telemetryProblem } from "../../coordinator/fleet/state.ts";
import { decode, parseTopic } from "../../proto/index.ts";
import type { FuzzMessage } from "./payloads.ts";

export interface RegressionCase {
  id: string;
  /** How it was found: seed(s) and run. */
  found: string;
  /** The topic under the default root `k3s-fleet/v1`. */
  topic: string;
  payloadHex: string;
  /**
   * `open`: a bug still there (owner and fix in `note`); `fixed`: it failed once and must stay fixed;
   * `guard`: an edge case the generator makes that never failed, kept so it stays harmless.
   */
  status: "open" | "fixed" | "guard";
  /** Where it fails and what the fix is. */
  note: string;
}

export const REGRESSIONS: readonly RegressionCase[] = [
  {
    id: "report-uint64-rate-overflow",
    found:
      "in-process replay (test/fuzz/replay.ts) of seeds 1–6, 30,000 messages each: 153 of 360 reports failed to encode",
    topic: "k3s-fleet/v1/node/fuzz-0/telemetry",
    // NodeTelemetry{session 1, seq 1, network{interfaces [{a, up, rx 2^64−1}, {b, up, rx 1}]}}: no default
    // interface, so the report sums the rates, and 2^64−1 + 1 does not fit the report's uint64.
    payloadHex: "080110014a1b12100a0161100118ffffffffffffffffff0112070a016210011801",
    status: "fixed",
    note:
      "coordinator/report/build.ts networkRates sums uint64 rates without a cap, so encode('report') throws " +
      "'invalid uint64'; coordinator/fleet/fleet-service.ts tick calls link.publish (which encodes synchronously) " +
      "outside any try, so the throw escapes the setInterval callback: an uncaught exception that ends the " +
      "coordinator process at the next report interval. Fix: clamp the sums to 2^64−1 in networkRates, and " +
      "catch a report that cannot be encoded in tick (count it as a report publish failure).",
  },
  {
    id: "decode-deep-nesting",
    found: "generator edge case (`field` mutation, 2,000 nested length-delimited levels); never failed",
    topic: "k3s-fleet/v1/node/fuzz-0/telemetry",
    // Field 5 (cpu) holding 2,000 levels of field 1 (wire type 2) around one byte: a decode error, counted.
    payloadHex: nestedHex(2000),
    status: "guard",
    note: "must stay a counted decode_error, never a stack overflow",
  },
  {
    id: "overlong-varint",
    found: "generator edge case (`field` mutation, an 11-byte varint); never failed",
    topic: "k3s-fleet/v1/node/fuzz-0/status",
    payloadHex: "10ffffffffffffffffffffff01",
    status: "guard",
    note: "must stay a counted decode_error",
  },
  {
    id: "timestamp-out-of-range",
    found: "generator edge case (`extreme` mutation, Timestamp seconds 2^63−1, nanos −1); never failed",
    topic: "k3s-fleet/v1/node/fuzz-0/status",
    // NodeStatus{state ONLINE, session 1, time{seconds 2^63−1, nanos −1}}
    payloadHex: "080110011a1508ffffffffffffffff7f10ffffffffffffffffff01",
    status: "guard",
    note: "applied or rejected, never thrown; the report must still build, render and encode",
  },
];

/** Seeds that found a case above; test/fuzz-regressions.test.ts replays them in-process. */
export const FAILING_SEEDS: readonly { seed: number; messages: number; finds: string }[] = [
  { seed: 1, messages: 5_000, finds: "report-uint64-rate-overflow" },
];

/**
 * Whether a generated message would trigger an `open` regression: such messages are left out of the big
 * fuzz run (and counted there as skipped) so one known crash does not hide every other finding.
 */
export function knownBugFilter(): (m: Pick<FuzzMessage, "topic" | "payload">) => boolean {
  const open = new Set(REGRESSIONS.filter((r) => r.status === "open").map((r) => r.id));
  return (m) => open.has("report-uint64-rate-overflow") && overflowsReportRates(m.topic, m.payload);
}

const MAX_U64 = 2n ** 64n - 1n;

/** Telemetry the coordinator applies whose summed interface rates do not fit a uint64 in the report. */
export function overflowsReportRates(topic: string, payload: Uint8Array): boolean {
  const parsed = parseTopic("k3s-fleet/v1", topic);
  if (!parsed.ok || parsed.topic.kind !== "telemetry") return false;
  const decoded = decode("telemetry", payload);
  if (!decoded.ok || telemetryProblem(decoded.message) !== undefined) return false;
  const network = decoded.message.network;
  if (network === undefined) return false;
  if (network.interfaces.some((i) => i.name === network.defaultInterface)) return false;
  let rx = 0n;
  let tx = 0n;
  for (const i of network.interfaces) {
    rx += i.rxBytesPerSec;
    tx += i.txBytesPerSec;
  }
  return rx > MAX_U64 || tx > MAX_U64;
}

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

function nestedHex(depth: number): string {
  // Innermost: field 1, varint 1. Each level wraps it as field 1, length-delimited; the outermost is field 5.
  let inner = Buffer.from([0x08, 0x01]);
  for (let level = 0; level < depth; level++) {
    const field = level === depth - 1 ? 5 : 1;
    inner = Buffer.concat([Buffer.from([(field << 3) | 2]), varint(inner.length), inner]);
  }
  return inner.toString("hex");
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
