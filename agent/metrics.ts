// The agent's own Prometheus metrics, as exposition text. Hand-written rather than prom-client: the agent
// image leaves prom-client out to stay small, and a dozen counters need no registry. Pure.
import type { SamplingStats } from "./agent.ts";
import type { OutboxStats } from "./outbox.ts";

export interface AgentMetricsInput {
  nodeId: string;
  connected: boolean;
  session: bigint;
  seq: bigint;
  sampling: SamplingStats;
  outbox: OutboxStats;
}

type Family = [
  name: string,
  type: "counter" | "gauge",
  help: string,
  samples: Array<[labels: string, value: number]>,
];

export function agentMetricsText(m: AgentMetricsInput): string {
  const o = m.outbox;
  const families: Family[] = [
    [
      "k3sfleet_agent_connected",
      "gauge",
      "1 while connected and publishing telemetry.",
      [["", m.connected ? 1 : 0]],
    ],
    ["k3sfleet_agent_session", "gauge", "Current MQTT session number.", [["", Number(m.session)]]],
    ["k3sfleet_agent_seq", "gauge", "Last telemetry seq published in this session.", [["", Number(m.seq)]]],
    [
      "k3sfleet_agent_samples_total",
      "counter",
      "Samples taken, failed, and skipped because sampling overran its interval.",
      [
        ['result="taken"', m.sampling.taken],
        ['result="failed"', m.sampling.failed],
        ['result="skipped"', m.sampling.skipped],
      ],
    ],
    [
      "k3sfleet_agent_sample_duration_seconds_total",
      "counter",
      "Time spent taking samples.",
      [["", m.sampling.durationSecondsTotal]],
    ],
    [
      "k3sfleet_agent_sample_duration_seconds",
      "gauge",
      "Duration of the latest sample.",
      [["", m.sampling.lastDurationSeconds]],
    ],
    [
      "k3sfleet_agent_publishes_total",
      "counter",
      "Telemetry publishes: live, replayed from the buffer, acknowledged, failed in flight.",
      [
        ['kind="live"', o.live],
        ['kind="replayed"', o.replayed],
        ['kind="acknowledged"', o.acknowledged],
        ['kind="failed"', o.failed],
      ],
    ],
    [
      "k3sfleet_agent_dropped_total",
      "counter",
      "Samples dropped: buffer full, too old, or offline without a buffer.",
      [
        ['reason="count"', o.droppedByCount],
        ['reason="age"', o.droppedByAge],
        ['reason="offline"', o.droppedOffline],
      ],
    ],
    [
      "k3sfleet_agent_buffer_depth",
      "gauge",
      "Samples waiting in the buffer to be (re)sent or acknowledged.",
      [["", o.pending]],
    ],
    [
      "k3sfleet_agent_buffer_errors_total",
      "counter",
      "Buffer reads or writes that failed.",
      [["", o.storeErrors]],
    ],
    [
      "k3sfleet_agent_buffer_unavailable",
      "gauge",
      "1 while the configured buffer cannot be opened (full disk): samples taken offline are dropped.",
      [["", o.bufferUnavailable]],
    ],
    [
      "k3sfleet_agent_buffer_damaged_total",
      "counter",
      "Buffer files found damaged while running (moved aside), write-ahead logs found damaged at open.",
      [
        ['what="file"', o.bufferMovedAside],
        ['what="wal"', o.bufferWalDamaged],
      ],
    ],
  ];
  const node = `node="${m.nodeId.replace(/["\\\n]/g, "_")}"`;
  const lines: string[] = [];
  for (const [name, type, help, samples] of families) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples)
      lines.push(`${name}{${labels ? `${labels},` : ""}${node}} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}
