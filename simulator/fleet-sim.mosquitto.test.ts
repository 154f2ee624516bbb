// The simulator's virtual agents through a broker nobody here wrote: Debian's Mosquitto.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PeerState } from "../proto/index.ts";
import { type MosquittoProcess, startMosquitto } from "../test/support/mosquitto.ts";
import {
  isRunFromOne,
  seqsBySession,
  statusesOf,
  type Watcher,
  watchNodes,
} from "../test/support/simulator.ts";
import { toolAvailable } from "../test/support/tools.ts";
import { until } from "../test/support/until.ts";
import { type Simulation, startSimulation } from "./fleet-sim.ts";

const ROOT = "simtest/v1";
const N = 50;

describe.skipIf(!toolAvailable("mosquitto", "mosquitto"))("fleet simulation against Mosquitto", () => {
  let mosquitto: MosquittoProcess;
  let watcher: Watcher;
  let sim: Simulation;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    watcher = await watchNodes(mosquitto.url, ROOT);
    sim = await startSimulation({
      brokerUrl: mosquitto.url,
      nodes: N,
      intervalMs: 250,
      topicRoot: ROOT,
      flapFraction: 0,
      seed: 3,
      logger: pino({ level: "silent" }),
    });
  });

  afterAll(async () => {
    await sim?.stop();
    await watcher?.close();
    await mosquitto?.stop();
  });

  it(`connects ${N} agents whose births, statuses and telemetry follow the contract`, async () => {
    expect(await sim.waitForConnected(N, 5_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(watcher.undecodable).toBe(0);
    for (const nodeId of sim.nodeIds) {
      const birth = watcher.seen.find((s) => s.kind === "birth" && s.nodeId === nodeId);
      const session = birth?.message.session ?? 0n;
      expect(session).toBeGreaterThan(0n);
      expect(statusesOf(watcher.seen, nodeId).map((s) => s.message.state)).toEqual([PeerState.ONLINE]);
      const bySession = seqsBySession(watcher.seen, nodeId);
      expect([...bySession.keys()]).toEqual([session]);
      const seqs = bySession.get(session) ?? [];
      expect(seqs.length).toBeGreaterThanOrEqual(10);
      expect(isRunFromOne(seqs)).toBe(true);
    }
    await until(() => sim.stats().inflight === 0, 5_000, "acks");
    const stats = sim.stats();
    expect(stats.acked).toBe(stats.published);
    expect(stats.errors).toBe(0);
  }, 20_000);

  it("has Mosquitto announce a killed node's Will", async () => {
    const victim = sim.nodeIds[11] as string;
    sim.kill(victim);
    await until(
      () => statusesOf(watcher.seen, victim).some((s) => s.message.state === PeerState.OFFLINE),
      5_000,
      "Will",
    );
    expect(statusesOf(watcher.seen, victim).at(-1)?.message.reason).toBe("");
  });

  it("leaves every node OFFLINE (retained) after stop()", async () => {
    await sim.stop("test over");
    const late = await watchNodes(mosquitto.url, ROOT);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await late.close();
    const statuses = late.seen.flatMap((s) => (s.kind === "nodeStatus" && s.retain ? [s] : []));
    expect(statuses).toHaveLength(N);
    expect(statuses.every((s) => s.message.state === PeerState.OFFLINE)).toBe(true);
    // The killed node's retained status is its Will; every other node's is the clean stop's.
    expect(statuses.filter((s) => s.message.reason === "test over")).toHaveLength(N - 1);
  });
});
