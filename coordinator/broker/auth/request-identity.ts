// A scheduler's schedule request must speak for the connection that publishes it: its `client_id` is the
// MQTT client id and its `reply_to` is empty or that client's own reply topic. Then the coordinator can
// take the request's client id as proof of who sent it (the broker tells it that client's user, for the
// per-user quotas), and a scheduler cannot have decisions sent to another client's reply topic. MQTT 3.1.1
// gives a subscriber no publisher identity, so this can only be checked in the broker. Pure.
import { decode } from "../../../proto/index.ts";
import type { Topics } from "../../../proto/topics.ts";

/** Largest request decoded here (the payload limit for requests is 16 KiB). */
const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * Why `payload`, published on the schedule request topic by `clientId`, does not speak for that client, or
 * undefined. A payload that does not decode passes: the coordinator refuses it with the reason.
 */
export function requestIdentityProblem(
  payload: Uint8Array,
  clientId: string,
  topics: Topics,
): string | undefined {
  const decoded = decode("scheduleRequest", payload, MAX_REQUEST_BYTES);
  if (!decoded.ok) return undefined;
  const { clientId: named, replyTo } = decoded.message;
  if (named !== clientId)
    return `schedule request names client_id ${JSON.stringify(named)}, not its sender's`;
  if (replyTo !== "" && replyTo !== topics.scheduleReply(clientId))
    return `schedule request asks for replies on ${replyTo}, not its sender's reply topic`;
  return undefined;
}
