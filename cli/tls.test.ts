// MQTT credentials from config: a password from a file (a Secret key mounted per node), and a clear error
// naming the file when it cannot be read.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config/load.ts";
import { mqttAuth } from "./tls.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3sf-tls-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const configWith = (broker: Record<string, unknown>) => loadConfig({ env: {}, flags: { broker } });

describe("mqttAuth", () => {
  it("reads the password from broker.passwordFile (one line, newline dropped)", async () => {
    const file = join(dir, "pi-01");
    await writeFile(file, "s3cret-pass\n");
    const auth = await mqttAuth(configWith({ username: "pi-01", passwordFile: file }));
    expect(auth).toMatchObject({ username: "pi-01", password: "s3cret-pass" });
  });

  it("prefers broker.password when both are set", async () => {
    const auth = await mqttAuth(configWith({ password: "given", passwordFile: join(dir, "nothing") }));
    expect(auth.password).toBe("given");
  });

  it("names the file and the user when the file cannot be read", async () => {
    await expect(
      mqttAuth(configWith({ username: "pi-02", passwordFile: join(dir, "pi-02") })),
    ).rejects.toMatchObject({
      code: "K3SF_ERR_CREDENTIALS",
      message: expect.stringMatching(/broker\.passwordFile .*pi-02: ENOENT \(no MQTT password for pi-02\?\)/),
    });
  });
});
