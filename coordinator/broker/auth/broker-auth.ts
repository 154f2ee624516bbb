// The aedes glue: authentication, topic authorisation and client-id rules for the embedded broker, as the
// four aedes handlers. Decisions come from policy.ts; this file only knows aedes and keeps per-client state.
//
// What aedes gets wrong by default, fixed here:
// - an empty client id with a persistent session is accepted under a random id; MQTT 3.1.1 §3.1.3-8 says
//   refuse it with CONNACK 0x02 (identifier rejected);
// - any client may take over any client id (and its session), closing the connection that holds it; here a
//   client id held by a live connection, or by a persistent session, can only be taken by the same user;
// - a Will is checked only when it is published; here a Will the client could not publish refuses CONNECT.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Aedes, AedesOptions, Client } from "aedes";
import type { Logger } from "pino";
import { type Topics, topicsFor } from "../../../proto/topics.ts";
import { createLogThrottle } from "../limits.ts";
import {
  CHECK_GATE_BOUNDS,
  type CheckGateOptions,
  type CheckGateSettings,
  createCheckGate,
} from "./check-gate.ts";
import { AuthError, type ConnackRefusal, ConnectRefusedError } from "./errors.ts";
import { isLoopbackHost } from "./listen-safety.ts";
import { DEFAULT_SCRYPT_COST, type ParsedHash, verifyPassword } from "./password.ts";
import { verifiedPeerName } from "./peer-cert.ts";
import {
  type AuthPolicy,
  defaultAuthPolicy,
  type Grants,
  mayPublish,
  maySubscribe,
  type Principal,
} from "./policy.ts";
import { requestIdentityProblem } from "./request-identity.ts";
import type { UserEntry, UsersTable } from "./users.ts";

/** Stable reasons, logged with every refusal and counted by `refusals()`. */
export type RefusalReason =
  | "not_wired" // preConnect was not installed, so the CONNECT cannot be checked: refused (fail closed)
  | "empty_client_id" // empty client id with a persistent session (or MQTT 3.1)
  | "anonymous_not_loopback" // anonymous mode, connection from a non-loopback address
  | "no_credentials" // a users file is configured and the client sent no username (nor a verified cert)
  | "unknown_user"
  | "bad_password"
  | "cert_required" // a certificate-only user tried a password
  | "cert_username_mismatch" // MQTT username differs from the verified certificate's name
  | "client_id_not_allowed" // policy.clientIdProblem
  | "client_id_taken" // held by another user's live connection or persistent session
  | "will_denied" // Will topic outside the client's publish grants
  | "persistent_session_denied" // clean session = 0 from a role with no use for one (policy.persistentSession)
  | "auth_error" // something threw while checking: refused with 0x03
  | "auth_busy" // no room to check the password now (check-gate.ts): refused with 0x03
  | "auth_backoff" // this address failed for this user too recently: refused with 0x03, nothing checked
  | "publish_denied"
  | "request_identity" // a scheduler's schedule request names another client id or reply topic
  | "subscribe_denied";

export type AedesAuthHooks = Required<
  Pick<AedesOptions, "preConnect" | "authenticate" | "authorizePublish" | "authorizeSubscribe">
>;

export interface BrokerAuthOptions {
  /** From the users file. Undefined: anonymous mode, every client allowed everything, loopback only. */
  users?: UsersTable;
  topicRoot: string;
  /** Bound by the caller, e.g. logger.child({ module: "broker-auth" }). */
  logger: Logger;
  policy?: Partial<AuthPolicy>;
  /**
   * A publish outside the grants (config broker.refusedPublish): `disconnect` closes the connection without forwarding it, as
   * aedes does for any authorizePublish error; `drop` acknowledges it and delivers it to nobody, as
   * Mosquitto does. MQTT 3.1.1 §3.3.5 allows both.
   */
  refusedPublish: "disconnect" | "drop";
  /**
   * Anonymous mode only: client ids kept for this process's own clients (the coordinator, the local agent).
   * Another loopback process may not take them (and with them the coordinator's session and rate
   * exemption); a client with such an id must log in with the username and password given here.
   */
  reservedIds?: ReadonlyMap<string, { username: string; password: string }>;
  /** Bounds on password checks (check-gate.ts); unset internal ones take CHECK_GATE_BOUNDS. */
  checkGate: CheckGateSettings & Partial<CheckGateOptions>;
}

export interface BrokerAuth {
  /** Pass all four to aedes; `authenticate` refuses every client when `preConnect` is missing. */
  readonly hooks: AedesAuthHooks;
  /** Refusals so far, by reason. */
  refusals(): Partial<Record<RefusalReason, number>>;
  /** Swap the users table (e.g. after the file changed); connected clients keep their grants. */
  setUsers(users: UsersTable): void;
  /** The principal a connected client authenticated as. */
  principalOf(client: Client): Principal | undefined;
  /** The user holding `clientId` now (a live connection or a persistent session), if a user does. */
  userOf(clientId: string): string | undefined;
}

/** Where a refused publish goes in `drop` mode: a `$` topic nobody may subscribe to. */
export const DROPPED_TOPIC = "$k3s-fleet/dropped";

interface ConnectFacts {
  emptyId: boolean;
  persistent: boolean;
  version: number;
  willTopic: string | undefined;
}

interface Session {
  principal: Principal;
  grants: Grants;
}

/** Who holds a client id: the principal key, its latest connection and whether a session outlives it. */
interface Holder {
  key: string;
  client: Client;
  persistent: boolean;
}

type Refusal = { reason: RefusalReason; returnCode: ConnackRefusal; message: string };

export function createBrokerAuth(options: BrokerAuthOptions): BrokerAuth {
  const policy: AuthPolicy = { ...defaultAuthPolicy, ...options.policy };
  const topics: Topics = topicsFor(options.topicRoot);
  const log = options.logger;
  const dropRefusedPublish = options.refusedPublish === "drop";
  const counts = new Map<RefusalReason, number>();
  const connects = new WeakMap<Client, ConnectFacts>();
  const sessions = new WeakMap<Client, Session>();
  const holders = new Map<string, Holder>();
  /** Client id → user of its latest schedule requests (the newest 10,000 client ids). */
  const requesters = new Map<string, string>();
  let users = options.users;
  let reserved = reservedClientIds(users, policy.agentClientId);
  let decoy = decoyHash(users);
  const gate = createCheckGate({
    ...CHECK_GATE_BOUNDS,
    now: () => performance.now(),
    ...options.checkGate,
  });

  /** The password check through the gate: true/false, or why it was not made. */
  async function passwordMatches(
    client: Client,
    username: string,
    password: Buffer | undefined,
    hash: ParsedHash,
    known = true,
  ): Promise<boolean | Refusal | "gone"> {
    const outcome = await gate.check({
      address: remoteAddress(client) ?? "unknown",
      username,
      known,
      password: password ?? Buffer.alloc(0),
      verify: () => verifyPassword(password ?? "", hash),
      alive: () => isLive(client),
    });
    if (outcome === "ok") return password !== undefined;
    if (outcome === "bad") return false;
    if (outcome === "gone") return "gone";
    return outcome === "busy"
      ? { reason: "auth_busy", returnCode: 3, message: "too many password checks waiting" }
      : {
          reason: "auth_backoff",
          returnCode: 3,
          message: `recent failures for ${username} from this address`,
        };
  }

  // A flood of refused CONNECTs must not become a flood of log lines: one line per reason and client id
  // per 10 s, at most 50 lines per 10 s in all; every refusal is still counted.
  const logThrottle = createLogThrottle({ intervalMs: 10_000, maxPerInterval: 50, maxKeys: 10_000 });

  function refuse(client: Client | null, reason: RefusalReason, message: string, extra: object = {}) {
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    const decision = logThrottle.admit(`${reason}|${client?.id ?? ""}`, performance.now());
    if (!decision.log) return;
    const who = client ? sessions.get(client)?.principal : undefined;
    log.warn(
      {
        clientId: client?.id,
        username: who?.kind === "user" ? who.username : undefined,
        reason,
        ...extra,
        ...(decision.suppressed > 0 ? { suppressed: decision.suppressed } : {}),
      },
      `mqtt refused: ${message}`,
    );
  }

  const preConnect: AedesAuthHooks["preConnect"] = (client, packet, callback) => {
    connects.set(client, {
      emptyId: !packet.clientId,
      persistent: !packet.clean,
      version: packet.protocolVersion ?? 4,
      willTopic: packet.will?.topic,
    });
    callback(null, true);
  };

  const authenticate: AedesAuthHooks["authenticate"] = (client, username, password, done) => {
    const fail = ({ reason, returnCode, message }: Refusal) => {
      refuse(client, reason, message, { username, returnCode });
      done(new ConnectRefusedError(reason, returnCode, message), false);
    };
    const facts = connects.get(client);
    connects.delete(client);
    if (facts === undefined) {
      return fail({
        reason: "not_wired",
        returnCode: 3,
        message: "broker auth is not wired: pass hooks.preConnect to aedes along with authenticate",
      });
    }
    // [MQTT-3.1.3-8]; MQTT 3.1 has no empty client ids at all.
    if (facts.emptyId && (facts.persistent || facts.version < 4)) {
      return fail({
        reason: "empty_client_id",
        returnCode: 2,
        message: "empty client id with a persistent session (clean session = 0)",
      });
    }
    admit(client, facts, username, password).then(
      (refusal) =>
        refusal === undefined ? done(null, true) : refusal === "gone" ? done(null, false) : fail(refusal),
      (error: unknown) => {
        log.error({ err: error, clientId: client.id }, "mqtt authentication failed with an error");
        fail({ reason: "auth_error", returnCode: 3, message: "authentication failed with an error" });
      },
    );
  };

  /** Who the client is and whether it may connect as it asked; on success its grants are recorded. */
  async function admit(
    client: Client,
    facts: ConnectFacts,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Refusal | "gone" | undefined> {
    const principal = await identify(client, username, password);
    if (principal === "gone") return "gone";
    if ("reason" in principal) return principal;
    const problem = policy.clientIdProblem(principal, client.id, {
      reserved,
      agentClientId: policy.agentClientId,
    });
    if (problem) return { reason: "client_id_not_allowed", returnCode: 2, message: problem };
    if (facts.persistent && !policy.persistentSession(principal)) {
      return {
        reason: "persistent_session_denied",
        returnCode: 5,
        message: "this role may not keep a persistent session (connect with clean session = 1)",
      };
    }
    const grants = policy.grants(principal, client.id, topics);
    if (facts.willTopic !== undefined && !mayPublish(grants, facts.willTopic)) {
      return {
        reason: "will_denied",
        returnCode: 5,
        message: `Will topic ${facts.willTopic} is outside what this client may publish`,
      };
    }
    const key = principalKey(principal);
    const holder = holders.get(client.id);
    if (holder && holder.key !== key && (holder.persistent || isLive(holder.client))) {
      const what = isLive(holder.client) ? "connection" : "persistent session";
      return {
        reason: "client_id_taken",
        returnCode: 2,
        message: `client id is held by another user's ${what}`,
      };
    }
    // aedes drops a client that closed while we were hashing; holding its id would block it forever.
    if (!isLive(client)) return "gone";
    holders.set(client.id, { key, client, persistent: facts.persistent });
    client.conn.once("close", () => release(client));
    sessions.set(client, { principal, grants });
    log.debug({ clientId: client.id, principal }, "mqtt client authenticated");
    return undefined;
  }

  function release(client: Client) {
    const holder = holders.get(client.id);
    if (holder?.client === client && !holder.persistent) holders.delete(client.id);
  }

  async function identify(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Principal | Refusal | "gone"> {
    if (users === undefined) {
      const remote = remoteAddress(client);
      if (remote === undefined || !isLoopbackHost(remote)) {
        return {
          reason: "anonymous_not_loopback",
          returnCode: 5,
          message: `no users file: only loopback clients are allowed, not ${remote ?? "an unknown address"}`,
        };
      }
      const owner = options.reservedIds?.get(client.id);
      if (owner && !(username === owner.username && sameSecret(password, owner.password))) {
        return {
          reason: "client_id_not_allowed",
          returnCode: 2,
          message: "client id is reserved for this process's own clients",
        };
      }
      return { kind: "anonymous" };
    }
    const table = users;
    const certName = verifiedPeerName(client.conn);
    if (certName !== undefined) {
      if (username !== undefined && username !== certName) {
        return {
          reason: "cert_username_mismatch",
          returnCode: 4,
          message: `username ${username} differs from the client certificate's ${certName}`,
        };
      }
      const entry = table.get(certName);
      if (entry === undefined)
        return {
          reason: "unknown_user",
          returnCode: 5,
          message: `client certificate names unknown user ${certName}`,
        };
      if (entry.credential.kind === "cert") return principalFor(entry);
      // A user with a password gives it even with a certificate.
      const matches = await passwordMatches(client, certName, password, entry.credential.hash);
      if (matches !== true) return matches || badPassword(certName);
      return principalFor(entry);
    }
    if (username === undefined)
      return { reason: "no_credentials", returnCode: 5, message: "anonymous clients are not allowed" };
    const entry = table.get(username);
    if (entry === undefined) {
      // As slow as a known user, through the gate's low-priority queue: names cannot be probed by the time
      // one check takes (under a flood they can by whether it is answered busy: docs/reliability.md).
      const matches = await passwordMatches(client, username, password, decoy, false);
      if (matches !== true && matches !== false) return matches;
      return { reason: "unknown_user", returnCode: 4, message: `unknown user ${username}` };
    }
    if (entry.credential.kind === "cert")
      return {
        reason: "cert_required",
        returnCode: 4,
        message: `${username} logs in with a client certificate only`,
      };
    const matches = await passwordMatches(client, username, password, entry.credential.hash);
    if (matches !== true) return matches || badPassword(username);
    return principalFor(entry);
  }

  const authorizePublish: AedesAuthHooks["authorizePublish"] = (client, packet, callback) => {
    const session = client ? sessions.get(client) : undefined;
    const principal = session?.principal;
    const identity =
      client &&
      principal?.kind === "user" &&
      principal.role === "scheduler" &&
      packet.topic === topics.scheduleRequest
        ? requestIdentityProblem(packet.payload as Buffer, client.id, topics)
        : undefined;
    if (session && identity === undefined && mayPublish(session.grants, packet.topic)) {
      // Who sent it, kept past the connection: a request is handled after its sender may have left.
      if (client && principal?.kind === "user" && packet.topic === topics.scheduleRequest) {
        requesters.delete(client.id);
        requesters.set(client.id, principal.username);
        if (requesters.size > 10_000) requesters.delete(requesters.keys().next().value as string);
      }
      return callback(null);
    }
    if (identity !== undefined) refuse(client, "request_identity", identity, { topic: packet.topic });
    else refuse(client, "publish_denied", `publish to ${packet.topic}`, { topic: packet.topic });
    if (dropRefusedPublish && client !== null) {
      packet.topic = DROPPED_TOPIC;
      packet.retain = false;
      return callback(null);
    }
    callback(new AuthError("K3SF_ERR_PUBLISH_REFUSED", `not allowed to publish to ${packet.topic}`));
  };

  const authorizeSubscribe: AedesAuthHooks["authorizeSubscribe"] = (client, subscription, callback) => {
    const session = sessions.get(client);
    if (session && maySubscribe(session.grants, subscription.topic)) return callback(null, subscription);
    refuse(client, "subscribe_denied", `subscribe to ${subscription.topic}`, { topic: subscription.topic });
    callback(null, null); // SUBACK 0x80 for this filter; the others are unaffected
  };

  return {
    hooks: { preConnect, authenticate, authorizePublish, authorizeSubscribe },
    refusals: () => Object.fromEntries(counts),
    setUsers(next) {
      users = next;
      reserved = reservedClientIds(next, policy.agentClientId);
      decoy = decoyHash(next);
      gate.forget();
    },
    principalOf: (client) => sessions.get(client)?.principal,
    userOf(clientId) {
      const recent = requesters.get(clientId);
      if (recent !== undefined) return recent;
      const key = holders.get(clientId)?.key;
      return key?.startsWith("user:") ? key.slice("user:".length) : undefined;
    },
  };
}

/**
 * Installs `preConnect` on a running aedes: `aedes.preConnect` is its documented public handler. For brokers
 * started by `startEmbeddedBroker`, which does not take `preConnect` yet.
 */
export function installPreConnect(aedes: Aedes, auth: BrokerAuth): void {
  aedes.preConnect = auth.hooks.preConnect;
}

function sameSecret(given: Buffer | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}

function badPassword(username: string): Refusal {
  return { reason: "bad_password", returnCode: 4, message: `wrong password for ${username}` };
}

function remoteAddress(client: Client): string | undefined {
  return "remoteAddress" in client.conn ? client.conn.remoteAddress : undefined;
}

function isLive(client: Client): boolean {
  return !client.closed && !client.conn.destroyed;
}

function principalKey(principal: Principal): string {
  return principal.kind === "anonymous" ? "anonymous" : `user:${principal.username}`;
}

function principalFor(entry: UserEntry): Principal {
  return entry.role === "node"
    ? { kind: "user", username: entry.username, role: "node", nodeId: entry.nodeId }
    : { kind: "user", username: entry.username, role: entry.role };
}

function reservedClientIds(users: UsersTable | undefined, agentClientId: (nodeId: string) => string) {
  const reserved = new Map<string, string>();
  for (const entry of users?.values() ?? []) {
    if (entry.role !== "node") continue;
    reserved.set(entry.nodeId, entry.username);
    reserved.set(agentClientId(entry.nodeId), entry.username);
  }
  return reserved;
}

/** A random hash as costly as the users' own, checked for unknown users. */
function decoyHash(users: UsersTable | undefined): ParsedHash {
  let cost = DEFAULT_SCRYPT_COST;
  for (const entry of users?.values() ?? []) {
    if (entry.credential.kind === "password") {
      cost = entry.credential.hash.cost;
      break;
    }
  }
  return { cost, salt: randomBytes(16), hash: randomBytes(32) };
}
