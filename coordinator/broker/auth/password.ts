// Password hashes for the broker's users file: scrypt with a per-user random salt, encoded as
// `scrypt$N$r$p$salt$hash` (salt and hash in base64), compared in constant time. Parameters travel with
// each hash, so raising the cost later leaves old entries valid.
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { AuthError } from "./errors.ts";

export interface ScryptCost {
  /** CPU/memory cost, a power of two; memory use is 128·N·r bytes. */
  N: number;
  r: number;
  p: number;
}

/** 2^15 · 8 · 128 = 32 MiB and roughly 50–100 ms per hash on a small machine. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };

/** The `passwordHash` of users who authenticate only with a TLS client certificate. */
export const CERT_ONLY = "cert";

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface ParsedHash {
  cost: ScryptCost;
  salt: Buffer;
  hash: Buffer;
}

/** Why `cost` is unusable (out of the bounds this broker accepts), or undefined when it is fine. */
export function scryptCostProblem({ N, r, p }: ScryptCost): string | undefined {
  if (!Number.isSafeInteger(N) || N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0)
    return `scrypt N=${N} must be a power of two between 2 and 2^20`;
  if (!Number.isSafeInteger(r) || r < 1 || r > 32) return `scrypt r=${r} must be between 1 and 32`;
  if (!Number.isSafeInteger(p) || p < 1 || p > 16) return `scrypt p=${p} must be between 1 and 16`;
  if (128 * N * r * p > 256 * 1024 * 1024) return "scrypt parameters need more than 256 MiB";
  return undefined;
}

/** Why `encoded` is not a usable `scrypt$N$r$p$salt$hash` string, or undefined when it is. */
export function passwordHashProblem(encoded: string): string | undefined {
  const result = decode(encoded);
  return typeof result === "string" ? result : undefined;
}

export function parsePasswordHash(encoded: string): ParsedHash {
  const result = decode(encoded);
  if (typeof result === "string") throw new AuthError("K3SF_ERR_PASSWORD_HASH", result);
  return result;
}

function decode(encoded: string): ParsedHash | string {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt")
    return `password hash must look like scrypt$N$r$p$salt$hash (or "${CERT_ONLY}")`;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  if (![n, r, p].every((v) => /^\d{1,8}$/.test(v))) return "scrypt N, r and p must be decimal integers";
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const problem = scryptCostProblem(cost);
  if (problem) return problem;
  if (!BASE64.test(salt) || !BASE64.test(hash)) return "scrypt salt and hash must be base64";
  const saltBytes = Buffer.from(salt, "base64");
  const hashBytes = Buffer.from(hash, "base64");
  if (saltBytes.length < 8) return "scrypt salt is shorter than 8 bytes";
  if (hashBytes.length < 16 || hashBytes.length > 64) return "scrypt hash must be 16 to 64 bytes";
  return { cost, salt: saltBytes, hash: hashBytes };
}

function derive(password: string | Buffer, salt: Buffer, keylen: number, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** A fresh `scrypt$N$r$p$salt$hash` for `password`, with a random 16-byte salt. */
export async function hashPassword(
  password: string,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<string> {
  if (password.length === 0) throw new AuthError("K3SF_ERR_PASSWORD_HASH", "password is empty");
  const problem = scryptCostProblem(cost);
  if (problem) throw new AuthError("K3SF_ERR_PASSWORD_HASH", problem);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, KEY_BYTES, cost);
  return ["scrypt", cost.N, cost.r, cost.p, salt.toString("base64"), hash.toString("base64")].join("$");
}

/** True when `password` matches `encoded`; the comparison takes the same time wherever they differ. */
export async function verifyPassword(
  password: string | Buffer,
  encoded: string | ParsedHash,
): Promise<boolean> {
  const { cost, salt, hash } = typeof encoded === "string" ? parsePasswordHash(encoded) : encoded;
  const derived = await derive(password, salt, hash.length, cost);
  return timingSafeEqual(derived, hash);
}
