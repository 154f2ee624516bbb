// Reads an agent's telemetry buffer file the way an operator would after a crash: read-only, with the
// agent's process gone (or still writing: WAL mode lets a reader in).
import { DatabaseSync } from "node:sqlite";
import { decode, timestampMs } from "../../proto/index.ts";

export interface BufferedSample {
  /** The sample's own time (agent clock, ms). */
  timeMs: number;
  /** Its session when it was sent once already (kept for every repeat); null when never sent. */
  session: bigint | null;
}

/** Samples not yet acknowledged, oldest first. */
export function bufferedSamples(path: string): BufferedSample[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("SELECT session, body FROM samples WHERE acked_ms IS NULL ORDER BY id").all() as {
      session: number | null;
      body: Uint8Array;
    }[];
    return rows.map((row) => {
      const decoded = decode("telemetry", row.body);
      if (!decoded.ok) throw new Error(`undecodable buffered sample: ${decoded.detail}`);
      return {
        timeMs: timestampMs(decoded.message.time) ?? Number.NaN,
        session: row.session === null ? null : BigInt(row.session),
      };
    });
  } finally {
    db.close();
  }
}
