// Wires the web view to a running coordinator (composition only). The users file is read once at start;
// a file that cannot be read leaves basic login off (logged), so the view is then closed off loopback
// unless a token is set.
import type { Logger } from "pino";
import { loadUsers, type UsersTable } from "../broker/auth/users.ts";
import type { RunningCoordinator } from "../fleet/fleet-service.ts";
import type { SchedulingService } from "../placement/index.ts";
import { createWebView, type PodLike, type WebView } from "./index.ts";

export interface WebAccessOptions {
  token?: string;
  /** Users file whose viewer and coordinator accounts may log in with HTTP basic. */
  usersFile?: string;
  /** Live update period (default 1 s). */
  periodMs?: number;
}

export async function startWebView(
  http: { host: string; web?: WebAccessOptions | false },
  coordinator: RunningCoordinator,
  scheduling: () => SchedulingService | undefined,
  cluster: { pods(): readonly PodLike[] } | undefined,
  logger: Logger,
): Promise<WebView | undefined> {
  if (http.web === false) return undefined;
  const web = http.web ?? {};
  const log = logger.child({ module: "web" });
  let users: UsersTable | undefined;
  if (web.usersFile) {
    try {
      users = await loadUsers(web.usersFile);
    } catch (err) {
      log.error(
        { err, usersFile: web.usersFile },
        "web view: cannot read the users file; basic login is off",
      );
    }
  }
  return createWebView({
    host: http.host,
    token: web.token,
    users,
    fleet: coordinator.fleet,
    history: coordinator.history,
    now: coordinator.now,
    scheduling,
    cluster: () => cluster,
    logger: log,
    periodMs: web.periodMs,
  });
}
