// Password guessing through the web view's HTTP basic login is bounded like an MQTT CONNECT's: after a few
// failures for one user from one address, that address waits before its next try is checked, and a flood
// of wrong passwords runs a few checks at once. Before, every request ran its own scrypt check at once:
// about 20 guesses a second from one address on a loaded 2-core machine, for ever.
import { describe, expect, it } from "vitest";
import { hashPassword, parsePasswordHash } from "../broker/auth/password.ts";
import type { UsersTable } from "../broker/auth/users.ts";
import { createAccess } from "./access.ts";

const CHEAP = { N: 2 ** 4, r: 1, p: 1 };

async function viewer(password: string): Promise<UsersTable> {
  const hash = parsePasswordHash(await hashPassword(password, CHEAP));
  return new Map([
    ["grafana", { username: "grafana", role: "viewer", credential: { kind: "password", hash } }],
  ]) as unknown as UsersTable;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("web view basic login", () => {
  it("makes an address that keeps failing for a user wait, without locking out other addresses", async () => {
    const access = createAccess({ host: "0.0.0.0", users: await viewer("right-password") });
    for (let i = 0; i < 4; i++) {
      expect(await access.check(basic("grafana", `guess-${i}`), "10.0.0.66")).toBe("unauthorized");
    }
    // The right password from the guessing address is not even checked during its back-off...
    expect(await access.check(basic("grafana", "right-password"), "10.0.0.66")).toBe("unauthorized");
    // ...while the user logs in from elsewhere.
    expect(await access.check(basic("grafana", "right-password"), "10.0.0.7")).toBe("allowed");
  });
});
