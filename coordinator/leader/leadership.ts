// Leadership for a coordinator with replicas: an elector on the Lease, and the role changes it causes
// applied one at a time, in order (promote: become the active coordinator and start acting; demote: stop
// acting, become a standby). `acting()` turns false the moment leadership is lost, before the demotion has
// run, so anything about to write to the cluster or answer a request can check it last.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { REAL_TIMERS } from "../../common/timers.ts";
import { createElector, type ElectorTimings } from "./elector.ts";
import { createKubeLeaseClient } from "./lease-client.ts";
import { trackRefusal } from "./refusal.ts";

export interface LeaderElectionSettings extends ElectorTimings {
  namespace: string;
  leaseName: string;
  /** Holder identity: the pod name, or host + instance id. */
  identity: string;
}

export interface RoleActions {
  promote(): Promise<void>;
  demote(): Promise<void>;
}

export interface Leadership {
  acting(): boolean;
  /** The API server's refusal (401/403) of the Lease while it lasts: no replica can lead until it is fixed. */
  refused(): string | undefined;
  readonly identity: string;
  /** The holder we last observed. */
  readonly leader: string;
  /** How many times this instance became the leader. */
  readonly transitions: number;
  /** Starts competing; resolves after the first attempt's role (if any) has been applied. */
  start(): Promise<void>;
  /** Resolves once a role change in progress has been applied. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  settings: LeaderElectionSettings;
  kc: KubeConfig;
  logger: Logger;
  actions: RoleActions;
  onKubeError?: (operation: string, code: string) => void;
}

/** A role change that has not finished in this long is abandoned and tried again (it must not wedge the switch). */
export const ROLE_CHANGE_TIMEOUT_MS = 20_000;

/**
 * Serialises role changes: one at a time, towards the latest role asked for. A change that fails or hangs is
 * logged and tried again a second later while that role is still wanted, so a leader never stays half
 * promoted and a standby never stays half demoted.
 */
export function createRoleSwitch(actions: RoleActions, logger: Logger, timeoutMs = ROLE_CHANGE_TIMEOUT_MS) {
  let wanted = false;
  let applied = false;
  let chain: Promise<void> = Promise.resolve();
  const attempt = async (leader: boolean) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`role change took over ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([leader ? actions.promote() : actions.demote(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const drive = async () => {
    while (applied !== wanted) {
      const target = wanted;
      try {
        await attempt(target);
        applied = target;
      } catch (error) {
        logger.error({ err: error, leader: target }, "cannot apply the coordinator's new role; trying again");
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  return {
    set(leader: boolean): Promise<void> {
      wanted = leader;
      // Each call queues one more drive; a drive with nothing left to do returns at once.
      chain = chain.then(drive);
      return chain;
    },
    settled: () => chain,
  };
}

/** A candidate for the Lease; nothing happens before `start()`. */
export function createLeadership(options: LeadershipOptions): Leadership {
  const { settings, logger } = options;
  const log = logger.child({ part: "leader-election" });
  const roles = createRoleSwitch(options.actions, log);
  let acting = false;
  const lease = trackRefusal(
    createKubeLeaseClient({
      kc: options.kc,
      namespace: settings.namespace,
      name: settings.leaseName,
      onError: options.onKubeError,
    }),
  );
  const elector = createElector({
    ...settings,
    client: lease.client,
    identity: settings.identity,
    logger: log,
    timers: REAL_TIMERS,
    now: Date.now,
    monotonic: () => performance.now(),
    onStartedLeading() {
      acting = true;
      void roles.set(true);
    },
    onStoppedLeading() {
      acting = false;
      void roles.set(false);
    },
    onNewLeader(identity) {
      log.info({ leader: identity || "(none)" }, "leader observed");
    },
  });
  return {
    acting: () => acting,
    refused: () => lease.refused(),
    identity: settings.identity,
    get leader() {
      return elector.leader;
    },
    get transitions() {
      return elector.transitions;
    },
    async start() {
      await elector.start();
      await roles.settled();
    },
    settled: () => roles.settled(),
    async stop() {
      await elector.stop();
      await roles.settled();
    },
  };
}
