// Leadership for a coordinator with replicas: an elector on the Lease, and the role changes it causes
// applied one at a time, in order (promote: become the active coordinator and start acting; demote: stop
// acting, become a standby). `acting()` turns false the moment leadership is lost, before the demotion has
// run, so anything about to write to the cluster or answer a request can check it last.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { REAL_TIMERS } from "../cluster/timers.ts";
import { createElector, type ElectorTimings } from "./elector.ts";
import { createKubeLeaseClient } from "./lease-client.ts";

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

/** Serialises role changes: each waits for the one before, and a change to the current role does nothing. */
export function createRoleSwitch(actions: RoleActions, logger: Logger) {
  let chain: Promise<void> = Promise.resolve();
  let applied = false;
  return {
    set(leader: boolean): Promise<void> {
      chain = chain.then(async () => {
        if (leader === applied) return;
        applied = leader;
        try {
          await (leader ? actions.promote() : actions.demote());
        } catch (error) {
          logger.error({ err: error, leader }, "cannot apply the coordinator's new role");
        }
      });
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
  const elector = createElector({
    ...settings,
    client: createKubeLeaseClient({
      kc: options.kc,
      namespace: settings.namespace,
      name: settings.leaseName,
      onError: options.onKubeError,
    }),
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
