// The agent's one MQTT link and what it says about the node on it (Sparkplug-style session hygiene): a new
// session and a retained OFFLINE Will before every connect, a retained birth then ONLINE status once a
// connection is announced, and telemetry numbered within the session.
import type { Logger } from "pino";
import { contractPublish, Link } from "../mqtt/link.ts";
import {
  agentClientId,
  createMessage,
  type MessageOf,
  PeerState,
  type Topics,
  timestamp,
} from "../proto/index.ts";
import type { AgentOptions } from "./agent.ts";
import type { Sequence, TelemetryLink } from "./outbox.ts";
import type { StaticFacts } from "./readings.ts";
import type { SessionCounter } from "./session-counter.ts";
import { shapeBirth } from "./shape.ts";
import { AGENT_VERSION } from "./version.ts";

export interface AgentLinkOptions {
  options: AgentOptions;
  installId: string;
  topics: Topics;
  sessions: SessionCounter;
  /** The node's latest facts, for the birth. */
  facts: () => StaticFacts;
  now: () => number;
  logger: Logger;
}

export interface AgentLink {
  readonly link: Link;
  /** Birth and status went out on this connection: telemetry may follow. */
  announced: boolean;
  /** Seq of the last telemetry in this session. */
  readonly seq: bigint;
  /** Where the outbox publishes telemetry: ready while connected and announced. */
  readonly telemetry: TelemetryLink;
  readonly sequence: Sequence;
  /** A new connection: not announced yet, seq from 0. */
  reset(): void;
  status(state: PeerState, reason?: string): MessageOf<"nodeStatus">;
  /** Retained birth, then ONLINE status: published in this order on one connection. */
  publishBirthAndStatus(): void;
  /** Logs a failed publish or subscribe as `what`, with the session. */
  warn(what: string): (error: unknown) => void;
}

export function createAgentLink(o: AgentLinkOptions): AgentLink {
  const { options, installId, topics, sessions, now, logger: log } = o;
  const { nodeId } = options;
  let seq = 0n;
  const status = (state: PeerState, reason = ""): MessageOf<"nodeStatus"> =>
    createMessage("nodeStatus", {
      state,
      session: sessions.current,
      time: timestamp(now()),
      reason,
      installId,
    });
  const warn = (what: string) => (error: unknown) =>
    log.warn({ err: error, session: `${sessions.current}` }, what);

  const link = new Link({
    url: options.brokerUrl,
    clientId: agentClientId(nodeId, installId),
    logger: log.child({ part: "link" }),
    keepaliveSeconds: options.keepaliveSeconds,
    username: options.mqtt?.username,
    password: options.mqtt?.password,
    tls: options.mqtt?.tls,
    writeCache: false,
    will: () => {
      sessions.take();
      return contractPublish("nodeStatus", topics.nodeStatus(nodeId), status(PeerState.OFFLINE));
    },
  });

  const agentLink: AgentLink = {
    link,
    announced: false,
    get seq() {
      return seq;
    },
    telemetry: {
      get ready() {
        return agentLink.announced && link.connected;
      },
      publish: (message) => link.publish("telemetry", topics.telemetry(nodeId), message),
    },
    sequence: {
      get session() {
        return sessions.current;
      },
      next() {
        seq += 1n;
        return seq;
      },
    },
    reset() {
      agentLink.announced = false;
      seq = 0n;
    },
    status,
    publishBirthAndStatus() {
      const birth = createMessage(
        "birth",
        shapeBirth(o.facts(), {
          nodeId,
          session: sessions.current,
          nowMs: now(),
          agentVersion: AGENT_VERSION,
          k8sNodeName: options.k8sNodeName,
          labels: options.labels,
          intervalMs: options.intervalMs,
          keepaliveSeconds: options.keepaliveSeconds,
          installId,
        }),
      );
      link.publish("birth", topics.birth(nodeId), birth).catch(warn("birth not acknowledged"));
      link
        .publish("nodeStatus", topics.nodeStatus(nodeId), status(PeerState.ONLINE))
        .catch(warn("online status not acknowledged"));
    },
    warn,
  };
  return agentLink;
}
