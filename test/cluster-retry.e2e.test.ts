// Issue 11 item 4: a cluster that was asked for (--kubeconfig) but does not answer yet is not "standalone
// for ever": the service runs, /readyz fails, failures are counted, and the cluster joins once it answers.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { decode, topicsFor } from "../proto/index.ts";
import { type FakeApiServer, makeNode, startFakeApiServer } from "./fake-apiserver/index.ts";
import { testServiceOptions } from "./support/service.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor("retry/v1");

describe("a kubeconfig that was given but does not work yet", () => {
  let api: FakeApiServer;
  let dir: string;
  let service: CoordinatorService;

  beforeAll(async () => {
    api = await startFakeApiServer();
    api.addNode(makeNode({ name: "k3s-node-1", cpu: "4", memory: "8Gi" }));
    dir = await mkdtemp(join(tmpdir(), "k3sf-retry-"));
  });
  afterAll(async () => {
    await service?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The mode in the coordinator's retained status, as an agent or dashboard sees it. */
  async function retainedMode(): Promise<string | undefined> {
    const client = await mqtt.connectAsync(service.broker?.url ?? "", {
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    let mode: string | undefined;
    client.on("message", (_topic, payload) => {
      const decoded = decode("coordinatorStatus", payload);
      if (decoded.ok) mode = decoded.message.mode;
    });
    await client.subscribeAsync(topics.coordinatorStatus, { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.endAsync();
    return mode;
  }

  it("retries, fails /readyz and counts kube_api_errors_total until the cluster answers, then joins it", async () => {
    const path = join(dir, "missing.yaml");
    service = await startCoordinatorService(
      testServiceOptions({
        topicRoot: topics.root,
        http: { host: "127.0.0.1", port: 0 },
        kubernetes: { kubeconfigPath: path, env: {}, connectTimeoutMs: 2000, metricsIntervalMs: 200 },
        logger,
      }),
    );
    const url = service.http?.url ?? "";
    expect(service.cluster).toBeUndefined();
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect(service.coordinator.buildReportNow().mode).toBe("standalone");
    expect(await retainedMode()).toBe("standalone");
    const errors = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(
        /^k3sfleet_kube_api_errors_total\{operation="connect",code="ENOENT"\} (\d+)/m.exec(text)?.[1],
      );
    };
    expect(await errors()).toBeGreaterThanOrEqual(1);

    // The operator fixes the file (or the API server comes up): no restart needed.
    await writeFile(path, await readFile(api.kubeconfigPath, "utf8"));
    await until(() => service.cluster?.synced(), 15_000, "the cluster view");
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(service.coordinator.buildReportNow().mode).toBe("cluster");
    const deadline = Date.now() + 5000;
    let mode = await retainedMode();
    while (mode !== "cluster" && Date.now() < deadline) mode = await retainedMode();
    expect(mode).toBe("cluster");
    expect(service.scheduling?.mode).toBe("cluster");
  });
});
