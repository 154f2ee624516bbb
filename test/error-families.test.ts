// Every error family of the product is a FleetError with its own code union (issue 16): a caller that catches
// one sees `code` typed as that family's union, `instanceof FleetError` holds, the class keeps its own name
// and the `cause` it was given. Where a real call produces the error cheaply, the row makes it that way.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { BufferError, type BufferErrorCode, openBufferStore } from "../agent/buffer-store.ts";
import { AgentError, type AgentErrorCode } from "../agent/errors.ts";
import { loadConfig } from "../cli/config/load.ts";
import { CredentialsError, type CredentialsErrorCode, mqttAuth } from "../cli/tls.ts";
import { FleetError, isFleetError } from "../common/errors.ts";
import { AuthError, type AuthErrorCode, type UsersFileError } from "../coordinator/broker/auth/errors.ts";
import { parseUsers } from "../coordinator/broker/auth/users.ts";
import { BrokerError, type BrokerErrorCode } from "../coordinator/broker/broker.ts";
import { createBrokerLimits, LimitError, type LimitErrorCode } from "../coordinator/broker/limits-hooks.ts";
import { ClusterError, type ClusterErrorCode } from "../coordinator/cluster/errors.ts";
import { CoordinatorError, type CoordinatorErrorCode } from "../coordinator/fleet/fleet-service.ts";
import {
  createElector,
  type ElectorOptions,
  LeaderError,
  LeaseConflictError,
  type LeaseErrorCode,
} from "../coordinator/leader/elector.ts";
import {
  type QuantityError,
  SchedulerError,
  type SchedulerErrorCode,
} from "../coordinator/scheduler/errors.ts";
import { parseQuantity } from "../coordinator/scheduler/quantity.ts";
import { assertNodeId, TopicError, type TopicErrorCode } from "../proto/topics.ts";
import { SimulatorError, type SimulatorErrorCode } from "../simulator/errors.ts";
import { BROKER_DEFAULTS } from "./support/defaults.ts";

const dir = mkdtempSync(join(tmpdir(), "k3sf-error-families-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

const cause = new Error("underlying");

interface Row {
  family: string;
  base: abstract new (...args: never[]) => Error;
  make: () => unknown;
  code: string;
  name: string;
  cause?: unknown;
}

const rows: Row[] = [
  {
    family: "LeaseConflictError",
    base: LeaseConflictError,
    make: () => new LeaseConflictError("taken", { cause }),
    code: "LEASE_CONFLICT",
    name: "LeaseConflictError",
    cause,
  },
  {
    family: "LeaderError",
    base: LeaderError,
    make: () =>
      thrown(() =>
        createElector({
          leaseDurationMs: 5_000,
          renewDeadlineMs: 2_000,
          retryPeriodMs: 2_000,
        } as ElectorOptions),
      ),
    code: "LEASE_INVALID_TIMINGS",
    name: "LeaderError",
  },
  {
    family: "SchedulerError",
    base: SchedulerError,
    make: () => thrown(() => parseQuantity("12 apples")),
    code: "K3SF_ERR_QUANTITY",
    name: "QuantityError",
  },
  {
    family: "AuthError",
    base: AuthError,
    make: () => thrown(() => parseUsers("users: 3", "users.yaml")),
    code: "K3SF_ERR_USERS_FILE",
    name: "UsersFileError",
  },
  {
    family: "BrokerError",
    base: BrokerError,
    make: () => new BrokerError("K3SF_ERR_BROKER_LISTEN", "cannot listen", { cause }),
    code: "K3SF_ERR_BROKER_LISTEN",
    name: "BrokerError",
    cause,
  },
  {
    family: "LimitError",
    base: LimitError,
    make: () =>
      thrown(() =>
        createBrokerLimits({
          newNodes: BROKER_DEFAULTS.newNodes,
          refusedPublish: "disconnect",
          topicRoot: "k3s-fleet/v1",
          settings: { maxTopicLength: 3 },
          logger: pino({ enabled: false }),
        }),
      ),
    code: "K3SF_ERR_LIMIT_SETTINGS",
    name: "LimitError",
  },
  {
    family: "ClusterError",
    base: ClusterError,
    make: () => new ClusterError("K3SF_ERR_KUBE_UNREACHABLE", "no answer", { cause }),
    code: "K3SF_ERR_KUBE_UNREACHABLE",
    name: "ClusterError",
    cause,
  },
  {
    family: "CoordinatorError",
    base: CoordinatorError,
    make: () => new CoordinatorError("K3SF_ERR_COORDINATOR_START", "cannot start", { cause }),
    code: "K3SF_ERR_COORDINATOR_START",
    name: "CoordinatorError",
    cause,
  },
  {
    family: "TopicError",
    base: TopicError,
    make: () => thrown(() => assertNodeId("rack/1")),
    code: "K3SF_ERR_NODE_ID",
    name: "TopicError",
  },
  {
    family: "BufferError",
    base: BufferError,
    make: () => {
      const file = join(dir, "not-a-dir");
      writeFileSync(file, "x");
      return thrown(() => openBufferStore({ path: join(file, "buffer.db") }));
    },
    code: "K3SF_ERR_BUFFER_STORE",
    name: "BufferError",
  },
  {
    family: "AgentError",
    base: AgentError,
    make: () => new AgentError("K3SF_ERR_SAMPLE", "cannot sample", { cause }),
    code: "K3SF_ERR_SAMPLE",
    name: "AgentError",
    cause,
  },
  {
    family: "SimulatorError",
    base: SimulatorError,
    make: () => new SimulatorError("K3SF_ERR_SIM_OPTIONS", "bad", { problems: ["a", "b"] }),
    code: "K3SF_ERR_SIM_OPTIONS",
    name: "SimulatorError",
  },
];

describe("error families are FleetErrors with their own code union", () => {
  it.each(rows)("$family: code $code, name $name, cause kept", ({ base, make, code, name, cause: given }) => {
    const error = make();
    expect(error).toBeInstanceOf(FleetError);
    expect(error).toBeInstanceOf(base);
    expect(isFleetError(error, code)).toBe(true);
    expect(error).toMatchObject({ code, name });
    if (given !== undefined) expect((error as Error).cause).toBe(given);
  });

  it("CredentialsError: an unreadable broker.passwordFile", async () => {
    const config = loadConfig({
      env: {},
      flags: { broker: { username: "pi", passwordFile: join(dir, "missing") } },
    });
    const error = await mqttAuth(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(isFleetError(error, "K3SF_ERR_CREDENTIALS")).toBe(true);
    expect(error).toMatchObject({ name: "CredentialsError" });
    expect((error as Error).cause).toMatchObject({ code: "ENOENT" });
  });

  it("keeps each family's own fields beside the code", () => {
    const quantity = thrown(() => parseQuantity("12 apples")) as QuantityError;
    expect(quantity.input).toBe("12 apples");
    const users = thrown(() => parseUsers("users: 3", "users.yaml")) as UsersFileError;
    expect(users).toMatchObject({ file: "users.yaml", problems: ["`users` must be a list"] });
    const sim = new SimulatorError("K3SF_ERR_SIM_OPTIONS", "bad", { problems: ["a", "b"] });
    expect(sim.problems).toEqual(["a", "b"]);
    const limit = new LimitError("K3SF_ERR_LIMIT_REFUSED", "refused", "rate_limited");
    expect(limit.reason).toBe("rate_limited");
  });

  it("types `code` as the family's union (checked by tsc)", () => {
    expectTypeOf<LeaseConflictError["code"]>().toEqualTypeOf<LeaseErrorCode>();
    expectTypeOf<LeaderError["code"]>().toEqualTypeOf<LeaseErrorCode>();
    expectTypeOf<SchedulerError["code"]>().toEqualTypeOf<SchedulerErrorCode>();
    expectTypeOf<QuantityError["code"]>().toEqualTypeOf<SchedulerErrorCode>();
    expectTypeOf<AuthError["code"]>().toEqualTypeOf<AuthErrorCode>();
    expectTypeOf<UsersFileError["code"]>().toEqualTypeOf<AuthErrorCode>();
    expectTypeOf<BrokerError["code"]>().toEqualTypeOf<BrokerErrorCode>();
    expectTypeOf<LimitError["code"]>().toEqualTypeOf<LimitErrorCode>();
    expectTypeOf<ClusterError["code"]>().toEqualTypeOf<ClusterErrorCode>();
    expectTypeOf<CoordinatorError["code"]>().toEqualTypeOf<CoordinatorErrorCode>();
    expectTypeOf<TopicError["code"]>().toEqualTypeOf<TopicErrorCode>();
    expectTypeOf<BufferError["code"]>().toEqualTypeOf<BufferErrorCode>();
    expectTypeOf<AgentError["code"]>().toEqualTypeOf<AgentErrorCode>();
    expectTypeOf<SimulatorError["code"]>().toEqualTypeOf<SimulatorErrorCode>();
    expectTypeOf<CredentialsError["code"]>().toEqualTypeOf<CredentialsErrorCode>();
    // A union, not `string`: a code outside it does not compile.
    expectTypeOf<"K3SF_ERR_NOT_A_CODE">().not.toExtend<TopicErrorCode>();
  });
});
