// HTTP plumbing shared by the routes: read a JSON body, write a JSON response or a Status error.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, badRequest, type Status } from "./status.ts";

export interface Reply {
  code: number;
  body: unknown;
  headers?: Record<string, string>;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The request body as JSON; an unparsable body is the apiserver's 400 decode error. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.code, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

export function statusReply(status: Status): Reply {
  const headers: Record<string, string> = {};
  const retry = status.details?.retryAfterSeconds;
  if (retry !== undefined) headers["Retry-After"] = String(retry);
  return { code: status.code, body: status, headers };
}

/** Any thrown value as a reply: ApiError keeps its Status, anything else is a 500 InternalError. */
export function errorReply(err: unknown): Reply {
  if (err instanceof ApiError) return statusReply(err.status);
  const message = `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`;
  return statusReply({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "InternalError",
    details: { causes: [{ reason: "", message, field: "" }] },
    code: 500,
  });
}
