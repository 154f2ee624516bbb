import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TEST_COST } from "../../../test/support/auth.ts";
import { UsersFileError } from "./errors.ts";
import { verifyPassword } from "./password.ts";
import { addUser, loadUsers, parseUsers, removeUser, withEphemeralUsers } from "./users.ts";

const dir = () => mkdtempSync(join(tmpdir(), "k3sf-users-"));
const hash = `scrypt$1024$8$1$${Buffer.alloc(16, 1).toString("base64")}$${Buffer.alloc(32, 2).toString("base64")}`;

describe("parseUsers", () => {
  it("reads roles, node ids (defaulting to the username) and both kinds of credential", () => {
    const users = parseUsers(
      [
        "users:",
        `  - { username: edge-01, role: node, passwordHash: '${hash}' }`,
        `  - { username: gw, role: node, nodeId: edge-07, passwordHash: '${hash}' }`,
        "  - { username: coordinator, role: coordinator, passwordHash: cert }",
        `  - { username: ops, role: viewer, passwordHash: '${hash}' }`,
      ].join("\n"),
    );
    expect([...users.keys()]).toEqual(["edge-01", "gw", "coordinator", "ops"]);
    expect(users.get("edge-01")).toMatchObject({
      role: "node",
      nodeId: "edge-01",
      credential: { kind: "password" },
    });
    expect(users.get("gw")).toMatchObject({ role: "node", nodeId: "edge-07" });
    expect(users.get("coordinator")).toMatchObject({ role: "coordinator", credential: { kind: "cert" } });
  });

  it("an empty file has no users", () => {
    expect(parseUsers("").size).toBe(0);
    expect(parseUsers("# nothing yet\n").size).toBe(0);
  });

  it("lists every problem at once, with where it is", () => {
    const text = [
      "extra: 1",
      "users:",
      "  - { username: a, role: root, passwordHash: cert }",
      "  - { username: b, role: viewer, nodeId: b, passwordHash: cert }",
      "  - { username: c, role: node, passwordHash: hunter2 }",
      "  - { username: 'x/y', role: node, passwordHash: cert }",
      "  - { username: d, role: node, nodeId: 'n+1', passwordHash: cert }",
      "  - { username: e, role: node, nodeId: shared, passwordHash: cert }",
      "  - { username: f, role: node, nodeId: shared, passwordHash: cert }",
      "  - { username: e, role: viewer, passwordHash: cert }",
      "  - { username: g, role: viewer, password: cert }",
      "  - just-a-string",
    ].join("\n");
    const error = (() => {
      try {
        parseUsers(text, "users.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsersFileError);
    expect(error).toMatchObject({ code: "K3SF_ERR_USERS_FILE", file: "users.yaml" });
    expect((error as UsersFileError).problems).toEqual([
      'unknown top-level key "extra"',
      "users[0]: role must be one of node, scheduler, coordinator, viewer",
      "users[1]: nodeId is only for the node role",
      'users[2]: password hash must look like scrypt$N$r$p$salt$hash (or "cert")',
      "users[3]: username used as node id: node id \"x/y\" contains one of the MQTT characters '+', '#', '/'",
      "users[4]: node id \"n+1\" contains one of the MQTT characters '+', '#', '/'",
      'users[6]: node id "shared" already belongs to user "e"',
      'users[7]: duplicate username "e"',
      'users[8]: unknown key "password"',
      'users[8]: passwordHash must be a string (a scrypt hash or "cert")',
      "users[9]: expected a mapping",
    ]);
  });

  it("reports YAML syntax errors as a users-file error", () => {
    expect(() => parseUsers("users: [")).toThrow(UsersFileError);
  });
});

describe("addUser / removeUser / loadUsers", () => {
  it("creates a private, documented file whose hashes verify", async () => {
    const file = join(dir(), "users.yaml");
    expect(await addUser(file, "edge-01", "node", "s3cret", { cost: TEST_COST })).toEqual({ created: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# k3s-fleet embedded broker users");
    expect(text).toMatch(/passwordHash: scrypt\$1024\$8\$1\$/);
    const users = await loadUsers(file);
    const entry = users.get("edge-01");
    expect(entry).toMatchObject({ role: "node", nodeId: "edge-01" });
    if (entry?.credential.kind !== "password") throw new Error("expected a password");
    expect(await verifyPassword("s3cret", entry.credential.hash)).toBe(true);
  });

  it("replaces an existing user's role, node id and password, keeping comments and other users", async () => {
    const file = join(dir(), "users.yaml");
    await addUser(file, "gw", "node", "old", { nodeId: "edge-07", cost: TEST_COST });
    await addUser(file, "coordinator", "coordinator", null);
    writeFileSync(file, `${readFileSync(file, "utf8")}# trailing note kept\n`);
    expect(await addUser(file, "gw", "node", "new", { cost: TEST_COST })).toEqual({ created: false });
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# trailing note kept");
    const users = await loadUsers(file);
    expect([...users.keys()]).toEqual(["gw", "coordinator"]);
    const gw = users.get("gw");
    expect(gw).toMatchObject({ role: "node", nodeId: "gw" }); // no nodeId given: back to the username
    if (gw?.credential.kind !== "password") throw new Error("expected a password");
    expect(await verifyPassword("new", gw.credential.hash)).toBe(true);
    expect(users.get("coordinator")).toMatchObject({ credential: { kind: "cert" } });
  });

  it("removes a user, and says when there was none", async () => {
    const file = join(dir(), "users.yaml");
    await addUser(file, "a", "viewer", null);
    await addUser(file, "b", "viewer", null);
    expect(await removeUser(file, "a")).toBe(true);
    expect(await removeUser(file, "a")).toBe(false);
    expect([...(await loadUsers(file)).keys()]).toEqual(["b"]);
  });

  it("refuses bad input and never rewrites a file that is already invalid", async () => {
    const file = join(dir(), "users.yaml");
    await expect(addUser(file, "", "viewer", "pw")).rejects.toMatchObject({ code: "K3SF_ERR_USER" });
    await expect(addUser(file, "n/1", "node", "pw")).rejects.toMatchObject({ code: "K3SF_ERR_USER" });
    await expect(addUser(file, "v", "viewer", "pw", { nodeId: "x" })).rejects.toMatchObject({
      code: "K3SF_ERR_USER",
    });
    await expect(addUser(file, "v", "viewer", "")).rejects.toMatchObject({ code: "K3SF_ERR_USER" });
    writeFileSync(file, "users:\n  - { username: a, role: god, passwordHash: cert }\n");
    await expect(addUser(file, "b", "viewer", null)).rejects.toBeInstanceOf(UsersFileError);
    expect(readFileSync(file, "utf8")).toContain("role: god");
  });

  it("a missing file is a coded I/O error with the cause", async () => {
    const error = await loadUsers(join(dir(), "absent.yaml")).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "K3SF_ERR_USERS_FILE_IO", cause: { code: "ENOENT" } });
  });
});

describe("withEphemeralUsers", () => {
  it("adds in-process users with fresh random passwords, leaving the table it was given alone", async () => {
    const file = join(dir(), "users.yaml");
    await addUser(file, "edge-01", "node", "pw", { cost: TEST_COST });
    const fromFile = await loadUsers(file);
    const { users, passwords } = await withEphemeralUsers(
      fromFile,
      [
        { username: "local-coordinator", role: "coordinator" },
        { username: "local-agent", role: "node", nodeId: "this-host" },
      ],
      TEST_COST,
    );
    expect(fromFile.size).toBe(1);
    expect([...users.keys()]).toEqual(["edge-01", "local-coordinator", "local-agent"]);
    expect(users.get("local-agent")).toMatchObject({ role: "node", nodeId: "this-host" });
    const entry = users.get("local-coordinator");
    const password = passwords.get("local-coordinator");
    if (entry?.credential.kind !== "password" || password === undefined)
      throw new Error("expected a password");
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await verifyPassword(password, entry.credential.hash)).toBe(true);
  });

  it("refuses a name or node id the table already has", async () => {
    const file = join(dir(), "users.yaml");
    await addUser(file, "edge-01", "node", "pw", { cost: TEST_COST });
    const fromFile = await loadUsers(file);
    await expect(
      withEphemeralUsers(fromFile, [{ username: "edge-01", role: "viewer" }], TEST_COST),
    ).rejects.toMatchObject({
      code: "K3SF_ERR_USER",
    });
    await expect(
      withEphemeralUsers(fromFile, [{ username: "other", role: "node", nodeId: "edge-01" }], TEST_COST),
    ).rejects.toThrow(/node id "edge-01" already belongs/);
  });
});
