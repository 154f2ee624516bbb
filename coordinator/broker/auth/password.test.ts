import { describe, expect, it } from "vitest";
import { TEST_COST } from "../../../test/support/auth.ts";
import {
  DEFAULT_SCRYPT_COST,
  hashPassword,
  passwordHashProblem,
  scryptCostProblem,
  verifyPassword,
} from "./password.ts";

describe("hashPassword / verifyPassword", () => {
  it("encodes scrypt$N$r$p$salt$hash and verifies only the right password", async () => {
    const encoded = await hashPassword("correct horse", TEST_COST);
    expect(encoded).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await verifyPassword("correct horse", encoded)).toBe(true);
    expect(await verifyPassword(Buffer.from("correct horse"), encoded)).toBe(true);
    expect(await verifyPassword("correct horsf", encoded)).toBe(false);
    expect(await verifyPassword("", encoded)).toBe(false);
  });

  it("salts every hash: the same password twice gives different hashes, both valid", async () => {
    const [one, two] = await Promise.all([hashPassword("pw", TEST_COST), hashPassword("pw", TEST_COST)]);
    expect(one).not.toBe(two);
    expect(await verifyPassword("pw", one)).toBe(true);
    expect(await verifyPassword("pw", two)).toBe(true);
  });

  it("uses the default cost unless told otherwise, and old hashes keep their own parameters", async () => {
    const encoded = await hashPassword("pw");
    expect(encoded.startsWith(`scrypt$${DEFAULT_SCRYPT_COST.N}$8$1$`)).toBe(true);
    expect(await verifyPassword("pw", encoded)).toBe(true);
  });

  it("refuses an empty password and out-of-bounds costs with coded errors", async () => {
    await expect(hashPassword("")).rejects.toMatchObject({ code: "K3SF_ERR_PASSWORD_HASH" });
    await expect(hashPassword("pw", { N: 1000, r: 8, p: 1 })).rejects.toMatchObject({
      code: "K3SF_ERR_PASSWORD_HASH",
    });
    await expect(verifyPassword("pw", "plain")).rejects.toMatchObject({ code: "K3SF_ERR_PASSWORD_HASH" });
  });
});

describe("passwordHashProblem", () => {
  const salt = Buffer.alloc(16, 1).toString("base64");
  const hash = Buffer.alloc(32, 2).toString("base64");
  it.each([
    [`scrypt$1024$8$1$${salt}$${hash}`, undefined],
    ["plain-text-password", 'password hash must look like scrypt$N$r$p$salt$hash (or "cert")'],
    [`bcrypt$1024$8$1$${salt}$${hash}`, 'password hash must look like scrypt$N$r$p$salt$hash (or "cert")'],
    [`scrypt$1000$8$1$${salt}$${hash}`, "scrypt N=1000 must be a power of two between 2 and 2^20"],
    [`scrypt$${2 ** 21}$8$1$${salt}$${hash}`, "scrypt N=2097152 must be a power of two between 2 and 2^20"],
    [`scrypt$1024$x$1$${salt}$${hash}`, "scrypt N, r and p must be decimal integers"],
    [`scrypt$1024$8$1$not base64!$${hash}`, "scrypt salt and hash must be base64"],
    [`scrypt$1024$8$1$AAAA$${hash}`, "scrypt salt is shorter than 8 bytes"],
    [`scrypt$1024$8$1$${salt}$AAAA`, "scrypt hash must be 16 to 64 bytes"],
  ])("%s", (encoded, expected) => {
    expect(passwordHashProblem(encoded)).toBe(expected);
  });

  it("bounds memory so a users file cannot make the broker allocate gigabytes", () => {
    expect(scryptCostProblem({ N: 2 ** 20, r: 8, p: 1 })).toBe("scrypt parameters need more than 256 MiB");
    expect(scryptCostProblem(DEFAULT_SCRYPT_COST)).toBeUndefined();
  });
});
