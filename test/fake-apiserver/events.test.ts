// Events through both APIs: core/v1 (CoreV1Api.createNamespacedEvent) and events.k8s.io/v1
// (EventsV1Api), which share one storage as upstream; tests read them back with api.events().
import { CoreV1Api, type CoreV1Event, EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "./client-status.ts";
import { type FakeApiServer, makePod, startFakeApiServer } from "./index.ts";

let api: FakeApiServer;
let core: CoreV1Api;
let events: EventsV1Api;

beforeAll(async () => {
  api = await startFakeApiServer();
  core = api.kubeConfig().makeApiClient(CoreV1Api);
  events = api.kubeConfig().makeApiClient(EventsV1Api);
  api.addPod(makePod({ name: "web" }));
});
afterAll(() => api.close());

const pod = () => api.getPod("default", "web");

describe("core/v1 Events", () => {
  it("records a Scheduled event that tests can read back", async () => {
    const uid = pod()?.metadata.uid;
    const body: CoreV1Event = {
      metadata: { generateName: "web.", namespace: "default" },
      involvedObject: { kind: "Pod", namespace: "default", name: "web", uid, apiVersion: "v1" },
      reason: "Scheduled",
      message: "Successfully assigned default/web to n1",
      type: "Normal",
      source: { component: "k3s-fleet" },
      firstTimestamp: new Date("2025-01-01T00:00:00Z"),
      lastTimestamp: new Date("2025-01-01T00:00:00Z"),
      count: 1,
    };
    const created = await core.createNamespacedEvent({ namespace: "default", body });
    expect(created.metadata.name).toMatch(/^web\./);
    const recorded = api.events("default").at(-1);
    expect(recorded).toMatchObject({
      reason: "Scheduled",
      message: "Successfully assigned default/web to n1",
      involvedObject: { kind: "Pod", name: "web", uid },
      source: { component: "k3s-fleet" },
      firstTimestamp: "2025-01-01T00:00:00Z",
    });
    const listed = await core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: "reason=Scheduled",
    });
    expect(listed.items.map((e) => e.message)).toEqual(["Successfully assigned default/web to n1"]);
  });

  it("rejects an involvedObject in another namespace with 422", async () => {
    const failure = await failureOf(
      core.createNamespacedEvent({
        namespace: "default",
        body: { metadata: { name: "x.1" }, involvedObject: { kind: "Pod", namespace: "other", name: "x" } },
      }),
    );
    expect(failure).toMatchObject({
      code: 422,
      status: { details: { causes: [{ field: "involvedObject.namespace", reason: "FieldValueInvalid" }] } },
    });
  });
});

describe("events.k8s.io/v1 Events", () => {
  it("creates a FailedScheduling event and serves it from both APIs", async () => {
    await events.createNamespacedEvent({
      namespace: "default",
      body: {
        metadata: { name: "web.failed", namespace: "default" },
        eventTime: new Date("2025-01-01T00:00:01.5Z"),
        reportingController: "k3s-fleet/scheduler",
        reportingInstance: "k3s-fleet-coordinator-1",
        action: "Scheduling",
        reason: "FailedScheduling",
        note: "0/2 nodes are available: 2 Insufficient cpu.",
        type: "Warning",
        regarding: { kind: "Pod", namespace: "default", name: "web" },
      },
    });
    expect(api.events("default").find((e) => e.metadata.name === "web.failed")).toMatchObject({
      apiVersion: "v1",
      message: "0/2 nodes are available: 2 Insufficient cpu.",
      reportingComponent: "k3s-fleet/scheduler",
      involvedObject: { name: "web" },
      eventTime: "2025-01-01T00:00:01.500000Z",
    });
    const viaV1 = await events.readNamespacedEvent({ name: "web.failed", namespace: "default" });
    expect(viaV1).toMatchObject({
      note: "0/2 nodes are available: 2 Insufficient cpu.",
      regarding: { name: "web" },
    });
    const viaCore = await core.readNamespacedEvent({ name: "web.failed", namespace: "default" });
    expect(viaCore.message).toBe("0/2 nodes are available: 2 Insufficient cpu.");
  });

  it("applies the strict events.k8s.io validation (422 with every cause)", async () => {
    const failure = await failureOf(
      events.createNamespacedEvent({
        namespace: "default",
        body: {
          metadata: { name: "bad.1" },
          eventTime: new Date(),
          type: "Odd",
          regarding: { namespace: "default" },
        },
      }),
    );
    expect(failure.code).toBe(422);
    expect(failure.status?.details?.causes?.map((c) => c.field)).toEqual([
      "reportingController",
      "reportingInstance",
      "action",
      "reason",
      "type",
    ]);
  });
});
