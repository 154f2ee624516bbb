// A bare HTTPS client for tests that need to see exact response bodies and status codes, bypassing
// client-node's deserialization. Trusts the fake's CA and sends its token unless told otherwise.
import { request } from "node:https";
import type { FakeApiServer } from "./server.ts";

export interface RawResponse {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): unknown;
}

export function rawRequest(
  api: FakeApiServer,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? api.token : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (payload !== undefined) headers["Content-Type"] ??= "application/json";
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method, ca: api.caCert, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () =>
        resolve({ code: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}
