// The embedded broker with its door locked: users file (or loopback-only anonymous access), topic ACLs by
// role, optional TLS. Accounts for this process's own clients (coordinator, local agent) are made up in
// memory when a users file is in force, so `up` works with auth on without editing the file.
import { randomBytes } from "node:crypto";
import type { Client } from "aedes";
import type { Logger } from "pino";
import { COORDINATOR_CLIENT_ID } from "../fleet/fleet-service.ts";
import type { CheckGateOptions, CheckGateSettings } from "./auth/check-gate.ts";
import {
  assertListenSafe,
  type BrokerTlsConfig,
  brokerTlsOptions,
  createBrokerAuth,
  defaultAgentClientId,
  loadUsers,
  type Role,
  withEphemeralUsers,
} from "./auth/index.ts";
import { type ConnectionBounds, type EmbeddedBroker, startEmbeddedBroker } from "./broker.ts";
import type { LimitReason, LimitSettingsInput } from "./limits.ts";
import { createBrokerLimits } from "./limits-hooks.ts";
import type { NewNodeBounds } from "./new-nodes.ts";
import type { QueueBounds } from "./offline-queues.ts";

export interface SecuredBrokerOptions {
  host: string;
  port: number;
  maxPacketBytes: number;
  topicRoot: string;
  /** Users and salted password hashes (see `k3s-fleet passwd`); unset: anonymous, loopback only. */
  usersFile?: string;
  /** What a refused PUBLISH costs the client: its connection, or just the message (as Mosquitto does). */
  refusedPublish: "disconnect" | "drop";
  tls?: BrokerTlsConfig;
  /** In-process clients that need accounts when a users file is in force. */
  localClients: Array<{ name: string; role: Role; nodeId?: string }>;
  /**
   * Topic length, payload by topic kind and per-client publish rate (config `broker.maxTopicLength`,
   * `broker.maxPayloadByTopic`, `broker.maxPublishRate`, `broker.publishBurst`); unset values take
   * DEFAULT_LIMITS. Refusals cost what `refusedPublish` says.
   */
  limits?: LimitSettingsInput;
  /**
   * Clients the publish rate does not apply to, besides the coordinator (users with the coordinator role;
   * in anonymous mode the coordinator's client id).
   */
  rateExempt?: (client: Client) => boolean;
  /** What a connection may cost before CONNACK (broker.ts). */
  connections: ConnectionBounds;
  /** Per-client queues of persistent sessions (offline-queues.ts). */
  queues: QueueBounds;
  /** Password checks: concurrency and queue; back-off and remembered logins are auth/check-gate.ts's own. */
  checkGate: CheckGateSettings & Partial<Omit<CheckGateOptions, "now">>;
  /** New node ids per client id / address a minute (new-nodes.ts). */
  newNodes: NewNodeBounds;
  /** The coordinator's client id in anonymous mode; default COORDINATOR_CLIENT_ID. */
  coordinatorClientId?: string;
  logger: Logger;
}

export interface Credentials {
  username: string;
  password: string;
}

export interface SecuredBroker {
  broker: EmbeddedBroker;
  /**
   * Credentials for each local client by name. In anonymous mode too: there they only prove the client is
   * this process's own, which keeps its client id reserved.
   */
  credentials: ReadonlyMap<string, Credentials>;
  refusals(): Partial<Record<string, number>>;
  /** The user a client id's schedule requests come from (broker-auth.ts `userOf`); undefined: anonymous. */
  userOf(clientId: string): string | undefined;
  /** PUBLISH and SUBSCRIBE refused by the limits, by reason. */
  limitRefusals(): Partial<Record<LimitReason, number>>;
}

export async function startSecuredBroker(options: SecuredBrokerOptions): Promise<SecuredBroker> {
  const { logger } = options;
  const fileUsers = options.usersFile ? await loadUsers(options.usersFile) : undefined;
  // Refuses before listening: anonymous access is only for loopback (the `npm start` case).
  assertListenSafe({ host: options.host, authConfigured: fileUsers !== undefined });

  const credentials = new Map<string, Credentials>();
  let users = fileUsers;
  if (fileUsers) {
    const suffix = randomBytes(4).toString("hex");
    const specs = options.localClients.map((c) => ({ ...c, username: `local-${c.name}-${suffix}` }));
    const added = await withEphemeralUsers(
      fileUsers,
      specs.map(({ username, role, nodeId }) => ({ username, role, nodeId })),
    );
    users = added.users;
    for (const spec of specs) {
      credentials.set(spec.name, {
        username: spec.username,
        password: added.passwords.get(spec.username) ?? "",
      });
    }
  }
  // Anonymous mode: the same in-process clients get a random password anyway, so their client ids can be
  // kept from other local processes (issue 12: any local process could take over the coordinator's id).
  const coordinatorClientId = options.coordinatorClientId ?? COORDINATOR_CLIENT_ID;
  const reservedIds = new Map<string, Credentials>();
  if (!fileUsers) {
    const suffix = randomBytes(4).toString("hex");
    for (const c of options.localClients) {
      const own = { username: `local-${c.name}-${suffix}`, password: randomBytes(24).toString("base64url") };
      const clientId =
        c.role === "coordinator" ? coordinatorClientId : c.nodeId && defaultAgentClientId(c.nodeId);
      if (!clientId) continue;
      credentials.set(c.name, own);
      reservedIds.set(clientId, own);
    }
  }
  const auth = createBrokerAuth({
    reservedIds,
    users,
    topicRoot: options.topicRoot,
    logger: logger.child({ module: "auth" }),
    refusedPublish: options.refusedPublish,
    checkGate: options.checkGate,
  });
  const isCoordinator = (client: Client) => {
    const principal = auth.principalOf(client);
    return principal?.kind === "user" ? principal.role === "coordinator" : client.id === coordinatorClientId;
  };
  const limits = createBrokerLimits({
    topicRoot: options.topicRoot,
    settings: options.limits,
    refusedPublish: options.refusedPublish,
    rateExempt: (client) => isCoordinator(client) || (options.rateExempt?.(client) ?? false),
    logger: logger.child({ part: "limits" }),
    newNodes: options.newNodes,
  });
  const broker = await startEmbeddedBroker({
    host: options.host,
    port: options.port,
    maxPayloadBytes: options.maxPacketBytes,
    tls: options.tls ? await brokerTlsOptions(options.tls) : undefined,
    ...auth.hooks,
    limits,
    connections: options.connections,
    queues: options.queues,
    logger,
  });
  logger.info(
    {
      url: broker.url,
      auth: fileUsers ? "users file" : "anonymous (loopback only)",
      tls: Boolean(options.tls),
    },
    "embedded broker secured",
  );
  return {
    broker,
    credentials,
    refusals: () => auth.refusals(),
    userOf: (clientId) => auth.userOf(clientId),
    limitRefusals: () => limits.limitRefusals(),
  };
}
