// The broker's users file (YAML), read once at start and edited by `addUser` / `removeUser`:
//
//   users:
//     - username: edge-01          # a node; its node id defaults to the username
//       role: node
//       passwordHash: scrypt$32768$8$1$<salt base64>$<hash base64>
//     - username: gw-7
//       role: node
//       nodeId: edge-07            # node role only: the {nodeId} in its topics
//       passwordHash: scrypt$...
//     - username: coordinator      # logs in with a TLS client certificate whose CN is "coordinator"
//       role: coordinator
//       passwordHash: cert
//
// Roles: node | scheduler | coordinator | viewer (see policy.ts). Unknown keys are errors, so a typo
// cannot silently drop a setting.
import { randomBytes } from "node:crypto";
import { chmod, readFile, rename, rm, writeFile } from "node:fs/promises";
import { Document, isMap, isSeq, parseDocument, type YAMLMap, YAMLSeq } from "yaml";
import { nodeIdProblem } from "../../../proto/topics.ts";
import { AuthError, UsersFileError } from "./errors.ts";
import {
  CERT_ONLY,
  DEFAULT_SCRYPT_COST,
  hashPassword,
  type ParsedHash,
  parsePasswordHash,
  passwordHashProblem,
  type ScryptCost,
} from "./password.ts";
import { ROLES, type Role } from "./policy.ts";

export type Credential = { kind: "password"; hash: ParsedHash } | { kind: "cert" };

export type UserEntry =
  | { username: string; role: "node"; nodeId: string; credential: Credential }
  | { username: string; role: Exclude<Role, "node">; credential: Credential };

/** Users by name. */
export type UsersTable = ReadonlyMap<string, UserEntry>;

const ENTRY_KEYS = new Set(["username", "role", "nodeId", "passwordHash"]);
const MAX_USERNAME = 253;

export const USERS_FILE_HEADER = [
  " k3s-fleet embedded broker users. Keep this file private (mode 0600); edit it with `k3s-fleet passwd`.",
  " Each entry: username; role: node | scheduler | coordinator | viewer; nodeId (node role only, defaults",
  " to the username); passwordHash: scrypt$N$r$p$salt$hash, or `cert` for a user who logs in with a TLS",
  " client certificate whose CN (or, without a CN, first DNS SAN) is the username.",
].join("\n");

export function usernameProblem(username: string): string | undefined {
  if (username.length === 0) return "username is empty";
  if (username.length > MAX_USERNAME) return `username is longer than ${MAX_USERNAME} characters`;
  if (username.trim() !== username) return `username "${username}" has leading or trailing spaces`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\u0000-\u001f\u007f]/.test(username)) return "username contains a control character";
  return undefined;
}

/** Parses and validates users-file text; throws `UsersFileError` listing every problem. */
export function parseUsers(text: string, file?: string): UsersTable {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new UsersFileError(
      file,
      doc.errors.map((e) => e.message),
    );
  const data: unknown = doc.toJS();
  const problems: string[] = [];
  const users = new Map<string, UserEntry>();
  if (data === null || data === undefined) return users; // an empty file: nobody may connect
  if (typeof data !== "object" || Array.isArray(data))
    throw new UsersFileError(file, ["expected a mapping with a `users` list"]);
  for (const key of Object.keys(data)) if (key !== "users") problems.push(`unknown top-level key "${key}"`);
  const list = (data as { users?: unknown }).users;
  if (list !== undefined && list !== null && !Array.isArray(list)) problems.push("`users` must be a list");
  const nodeOwners = new Map<string, string>();
  for (const [index, raw] of (Array.isArray(list) ? list : []).entries()) {
    const result = validateEntry(raw);
    const where = `users[${index}]`;
    if (typeof result === "string" || Array.isArray(result)) {
      for (const problem of [result].flat()) problems.push(`${where}: ${problem}`);
      continue;
    }
    if (users.has(result.username)) problems.push(`${where}: duplicate username "${result.username}"`);
    if (result.role === "node") {
      const owner = nodeOwners.get(result.nodeId);
      if (owner !== undefined)
        problems.push(`${where}: node id "${result.nodeId}" already belongs to user "${owner}"`);
      nodeOwners.set(result.nodeId, result.username);
    }
    users.set(result.username, result);
  }
  if (problems.length > 0) throw new UsersFileError(file, problems);
  return users;
}

function validateEntry(raw: unknown): UserEntry | string[] {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return ["expected a mapping"];
  const entry = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(entry)) if (!ENTRY_KEYS.has(key)) problems.push(`unknown key "${key}"`);
  const { username, role, nodeId, passwordHash } = entry;
  if (typeof username !== "string") problems.push("username must be a string");
  else {
    const problem = usernameProblem(username);
    if (problem) problems.push(problem);
  }
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role))
    problems.push(`role must be one of ${ROLES.join(", ")}`);
  if (nodeId !== undefined && role !== "node") problems.push("nodeId is only for the node role");
  if (nodeId !== undefined && typeof nodeId !== "string") problems.push("nodeId must be a string");
  let credential: Credential | undefined;
  if (typeof passwordHash !== "string")
    problems.push(`passwordHash must be a string (a scrypt hash or "${CERT_ONLY}")`);
  else if (passwordHash === CERT_ONLY) credential = { kind: "cert" };
  else {
    const problem = passwordHashProblem(passwordHash);
    if (problem) problems.push(problem);
    else credential = { kind: "password", hash: parsePasswordHash(passwordHash) };
  }
  if (problems.length > 0 || typeof username !== "string" || credential === undefined) return problems;
  if (role === "node") {
    const id = typeof nodeId === "string" ? nodeId : username;
    const problem = nodeIdProblem(id);
    if (problem) return [`${nodeId === undefined ? "username used as node id: " : ""}${problem}`];
    return { username, role, nodeId: id, credential };
  }
  return { username, role: role as Exclude<Role, "node">, credential };
}

/**
 * Adds users that live only in this process, each with a fresh random password: what `k3s-fleet up` needs
 * for its own coordinator and local agent when a users file is configured. Refuses names or node ids that
 * the table already has.
 */
export async function withEphemeralUsers(
  users: UsersTable,
  specs: { username: string; role: Role; nodeId?: string }[],
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<{ users: UsersTable; passwords: ReadonlyMap<string, string> }> {
  const merged = new Map(users);
  const passwords = new Map<string, string>();
  const nodeIds = new Set([...users.values()].flatMap((u) => (u.role === "node" ? [u.nodeId] : [])));
  for (const spec of specs) {
    const nodeId = spec.role === "node" ? (spec.nodeId ?? spec.username) : undefined;
    const problems = [
      usernameProblem(spec.username),
      merged.has(spec.username) ? `user "${spec.username}" already exists` : undefined,
      spec.nodeId !== undefined && spec.role !== "node" ? "nodeId is only for the node role" : undefined,
      nodeId !== undefined ? nodeIdProblem(nodeId) : undefined,
      nodeId !== undefined && nodeIds.has(nodeId)
        ? `node id "${nodeId}" already belongs to a user`
        : undefined,
    ].filter((p) => p !== undefined);
    if (problems.length > 0)
      throw new AuthError("K3SF_ERR_USER", `cannot add user "${spec.username}": ${problems.join("; ")}`);
    const password = randomBytes(24).toString("base64url");
    const credential: Credential = {
      kind: "password",
      hash: parsePasswordHash(await hashPassword(password, cost)),
    };
    if (nodeId !== undefined) {
      nodeIds.add(nodeId);
      merged.set(spec.username, { username: spec.username, role: "node", nodeId, credential });
    } else {
      merged.set(spec.username, {
        username: spec.username,
        role: spec.role as Exclude<Role, "node">,
        credential,
      });
    }
    passwords.set(spec.username, password);
  }
  return { users: merged, passwords };
}

/** Reads and validates a users file. */
export async function loadUsers(file: string): Promise<UsersTable> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new AuthError("K3SF_ERR_USERS_FILE_IO", `cannot read users file ${file}`, { cause: error });
  }
  return parseUsers(text, file);
}

export interface AddUserOptions {
  /** Node role only; defaults to the username. */
  nodeId?: string;
  cost?: ScryptCost;
}

/**
 * Adds `username` or replaces its role, node id and password; `password: null` makes it a certificate-only
 * user. Creates the file (mode 0600) if missing, keeps comments, and writes atomically. What backs
 * `k3s-fleet passwd`.
 */
export async function addUser(
  file: string,
  username: string,
  role: Role,
  password: string | null,
  options: AddUserOptions = {},
): Promise<{ created: boolean }> {
  const problems = [usernameProblem(username)];
  if (!(ROLES as readonly string[]).includes(role)) problems.push(`role must be one of ${ROLES.join(", ")}`);
  if (options.nodeId !== undefined && role !== "node") problems.push("nodeId is only for the node role");
  if (role === "node") problems.push(nodeIdProblem(options.nodeId ?? username));
  if (password !== null && password.length === 0) problems.push("password is empty");
  const found = problems.filter((p) => p !== undefined);
  if (found.length > 0)
    throw new AuthError("K3SF_ERR_USER", `cannot add user "${username}": ${found.join("; ")}`);

  const doc = await readDocument(file);
  const users = usersSeq(doc);
  const passwordHash = password === null ? CERT_ONLY : await hashPassword(password, options.cost);
  const existing = users.items.find((item) => isMap(item) && item.get("username") === username) as
    | YAMLMap
    | undefined;
  if (existing) {
    existing.set("role", role);
    if (options.nodeId !== undefined) existing.set("nodeId", options.nodeId);
    else existing.delete("nodeId");
    existing.set("passwordHash", passwordHash);
  } else {
    const entry: Record<string, string> = { username, role };
    if (options.nodeId !== undefined) entry.nodeId = options.nodeId;
    entry.passwordHash = passwordHash;
    users.add(doc.createNode(entry));
  }
  await writeDocument(file, doc);
  return { created: existing === undefined };
}

/** Removes `username`; false when it was not there (the file is then left untouched). */
export async function removeUser(file: string, username: string): Promise<boolean> {
  const doc = await readDocument(file);
  const users = usersSeq(doc);
  const index = users.items.findIndex((item) => isMap(item) && item.get("username") === username);
  if (index < 0) return false;
  users.delete(index);
  await writeDocument(file, doc);
  return true;
}

async function readDocument(file: string): Promise<Document> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw new AuthError("K3SF_ERR_USERS_FILE_IO", `cannot read users file ${file}`, { cause: error });
    const doc = new Document({ users: [] });
    doc.commentBefore = USERS_FILE_HEADER;
    return doc;
  }
  parseUsers(text, file); // never rewrite a file that is already invalid: say what is wrong instead
  const doc = parseDocument(text);
  if (doc.contents !== null) return doc;
  const fresh = new Document({ users: [] }); // an empty (or comment-only) file
  fresh.commentBefore = doc.commentBefore ?? USERS_FILE_HEADER;
  return fresh;
}

function usersSeq(doc: Document): YAMLSeq {
  let users = doc.get("users");
  if (!isSeq(users)) {
    users = new YAMLSeq();
    doc.set("users", users);
  }
  const seq = users as YAMLSeq;
  seq.flow = false; // `users: []` would otherwise stay a flow list
  return seq;
}

async function writeDocument(file: string, doc: Document): Promise<void> {
  const text = doc.toString();
  parseUsers(text, file); // what we write must load
  const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o600, flag: "wx" });
    await chmod(temp, 0o600);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new AuthError("K3SF_ERR_USERS_FILE_IO", `cannot write users file ${file}`, { cause: error });
  }
}
