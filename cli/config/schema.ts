// The one configuration schema: types, defaults, validation. Env names are derived from its paths
// (K3S_FLEET_AGENT_INTERVAL ⇐ agent.interval) in env.ts, so adding a setting here is the whole change.
// Every product default lives here and nowhere else: the code takes the resolved values. Objects are
// strict: an unknown or misspelt key is an error like any invalid value (load.ts adds "did you mean").
// config/config.yaml lists every setting with its default; config.test.ts keeps the two in step.
import { join } from "node:path";
import { z } from "zod";
import type { NodeAffinity } from "../../coordinator/scheduler/k8s-types.ts";
import { BIRTH_BOUNDS, DEFAULT_LIMITS, longestContractTopic, MAX_LABEL_CHARS } from "../../proto/limits.ts";
import { topicRootProblem } from "../../proto/topics.ts";
import { durationProblem, MAX_TIMER_MS, parseDuration } from "./duration.ts";

/**
 * A duration with its unit: "5s", "1m30s", "250ms"; parsed to milliseconds. A bare number is refused.
 * `max` defaults to the longest timer Node.js keeps; ages and retentions (never a timer) pass Infinity.
 */
const duration = (fallback: string, min = 1, max = MAX_TIMER_MS) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const problem =
        typeof value === "number"
          ? `${value} has no unit: write ${value}ms or ${value}s (units: ms, s, m, h)`
          : durationProblem(value, min, max);
      if (problem !== undefined) {
        ctx.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }
      return parseDuration(value as string) as number;
    });

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** A YAML map's values as written: `rack: 03` is the number 3 to YAML, so it is refused rather than changed. */
function stringLabels(map: Record<string, unknown>, ctx: z.RefinementCtx): Record<string, string> {
  const bad = Object.entries(map)
    .filter(([, v]) => typeof v !== "string")
    .map(([k, v]) =>
      v === null || v === undefined
        ? `label ${JSON.stringify(k)} has no value`
        : `label ${JSON.stringify(k)} is ${typeof v === "object" ? "a list or map" : `the ${typeof v} ${String(v)}`}`,
    );
  if (bad.length === 0) return map as Record<string, string>;
  ctx.addIssue({
    code: "custom",
    message: `${bad.join(", ")}: quote each value in the YAML (rack: "03", not rack: 03) so it is kept as written`,
  });
  return z.NEVER;
}

/** `key=value,key=value` from env or flags, or a YAML map; no more than a birth may carry (proto/limits.ts). */
const labels = z
  .union([z.record(z.string(), z.unknown()), z.string()])
  .default({})
  .transform((value, ctx) => {
    if (typeof value !== "string") return stringLabels(value, ctx);
    const out: Record<string, string> = {};
    for (const pair of value.split(",").filter(Boolean)) {
      const eq = pair.indexOf("=");
      if (eq <= 0) {
        ctx.addIssue({ code: "custom", message: `"${pair}" is not key=value` });
        return z.NEVER;
      }
      out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    return out;
  })
  .superRefine((map, ctx) => {
    const entries = Object.entries(map);
    const { maxLabels, maxString } = BIRTH_BOUNDS;
    if (entries.length > maxLabels)
      ctx.addIssue({ code: "custom", message: `${entries.length} labels, more than ${maxLabels}` });
    for (const [key, value] of entries) {
      const long = key.length > maxString ? key : value.length > maxString ? value : undefined;
      if (long !== undefined)
        ctx.addIssue({
          code: "custom",
          message: `label ${JSON.stringify(key.slice(0, 40))}: ${long.length} characters, more than ${maxString}`,
        });
    }
    const chars = entries.reduce((n, [key, value]) => n + key.length + value.length, 0);
    if (chars > MAX_LABEL_CHARS)
      ctx.addIssue({
        code: "custom",
        message: `${chars} characters of labels, more than ${MAX_LABEL_CHARS}`,
      });
  });

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:1883 or [::1]:1883");

const payloadLimit = (kind: keyof typeof DEFAULT_LIMITS.maxPayloadByTopic) =>
  int(DEFAULT_LIMITS.maxPayloadByTopic[kind], 0, 256 * 1024 * 1024);

/** pino's levels; like the old tool (logrus) any case, and "warning" for warn: K3S_LOG_LEVEL=DEBUG works. */
const logLevel = z.preprocess(
  (value) => {
    if (typeof value !== "string") return value;
    const level = value.trim().toLowerCase();
    return level === "warning" ? "warn" : level;
  },
  z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]),
);

const boolean = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false"])])
    .default(fallback)
    .transform((v) => v === true || v === "true");

/** A YAML list, or `a,b,c` from env or flags. */
const stringList = (fallback: string[]) =>
  z
    .union([z.array(z.string()), z.string()])
    .default(fallback)
    .transform((v) =>
      (typeof v === "string" ? v.split(",") : v).map((s) => s.trim()).filter((s) => s.length > 0),
    );

/** A positive Kubernetes quantity ("500m", "4", "8Gi"); the scheduler parses it exactly at start. */
const QUANTITY = /^\+?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
/** The quantity as text when it is a positive one; otherwise an issue on `ctx`. */
function positiveQuantity(value: string | number, ctx: z.RefinementCtx): string {
  const text = String(value).trim();
  if (QUANTITY.test(text) && /[1-9]/.test(text.replace(/[eE][+-]?\d+$/, ""))) return text;
  ctx.addIssue({
    code: "custom",
    message: `"${text}" is not a positive quantity (e.g. 500m, 4, 512Mi, 8Gi)`,
  });
  return z.NEVER;
}
const quantity = (fallback: string) =>
  z.union([z.string(), z.number()]).default(fallback).transform(positiveQuantity);

/** A positive quantity, or unset. */
const optionalQuantity = z
  .union([z.string(), z.number()])
  .optional()
  .transform((value, ctx) => (value === undefined ? undefined : positiveQuantity(value, ctx)));

/** resource → weight, as a YAML map or `name=weight,name=weight` from env or flags. */
const scoringResources = z
  .union([z.record(z.string(), z.union([z.number(), z.string()])), z.string()])
  .default({ cpu: 1, memory: 1 })
  .transform((value, ctx) => {
    const entries: Array<[string, unknown]> =
      typeof value === "string"
        ? value
            .split(",")
            .filter((pair) => pair.trim().length > 0)
            .map((pair) => {
              const eq = pair.indexOf("=");
              return eq < 0
                ? [pair.trim(), undefined]
                : [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
            })
        : Object.entries(value);
    const out: Array<{ name: string; weight: number }> = [];
    for (const [name, raw] of entries) {
      const weight = Number(raw);
      if (raw === undefined || raw === "" || !Number.isInteger(weight) || weight < 1 || weight > 100)
        ctx.addIssue({
          code: "custom",
          message: `${name}: weight must be an integer from 1 to 100, got ${JSON.stringify(raw)}`,
        });
      else out.push({ name, weight });
    }
    if (entries.length === 0) ctx.addIssue({ code: "custom", message: "must name at least one resource" });
    return out;
  });

/**
 * A Kubernetes NodeAffinity object, or its JSON (from env or flags). Its terms, like the resource names of
 * scoringResources, are checked like ValidateNodeAffinityArgs by schedulingSettings (cli/config/scheduling.ts):
 * the checks are the engine's, which the agent's build of this schema does not carry.
 */
const addedAffinity = z
  .union([z.record(z.string(), z.unknown()), z.string()])
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return undefined;
    let parsed: unknown = value;
    if (typeof value === "string") {
      try {
        parsed = JSON.parse(value);
      } catch {
        ctx.addIssue({ code: "custom", message: "is not JSON (a NodeAffinity object)" });
        return z.NEVER;
      }
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      ctx.addIssue({ code: "custom", message: "must be a node affinity object" });
      return z.NEVER;
    }
    return parsed as NodeAffinity;
  });

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const configSchema = z
  .strictObject({
    /** MQTT topic root; the version is part of it. */
    topicRoot: z
      .string()
      .default("k3s-fleet/v1")
      .refine((r) => topicRootProblem(r) === undefined, {
        message: "must be a topic without wildcards or edge '/'",
      }),
    broker: z
      .strictObject({
        /** External broker URL (mqtt://, mqtts://). Unset: the embedded broker's address. */
        url: z
          .url({
            protocol: /^mqtts?$|^tcp$|^ssl$/,
            error: (issue) =>
              `${JSON.stringify(String(issue.input).replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@"))} is not an MQTT broker URL: expected mqtt://HOST:PORT or mqtts://HOST:PORT (port 1-65535)`,
          })
          .optional(),
        /** Where `up` and `coordinator --embedded-broker` listen. */
        embedded: hostPort.default("127.0.0.1:1883"),
        username: z.string().optional(),
        password: z.string().optional(),
        /** The password read from this file (one line) when `password` is unset: e.g. a Secret's key mounted per node. */
        passwordFile: z.string().optional(),
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        keepalive: duration("10s", 1000),
        /** Embedded broker: users with roles and salted password hashes (`k3s-fleet passwd`). Unset: anonymous, loopback only. */
        usersFile: z.string().optional(),
        /** Embedded broker: a refused PUBLISH drops the message (as Mosquitto does) or the connection. */
        refusedPublish: z.enum(["drop", "disconnect"]).default("drop"),
        /** Embedded broker listens with TLS when cert and key are set; with a CA, client certificates log in. */
        listenTls: z
          .strictObject({
            certFile: z.string().optional(),
            keyFile: z.string().optional(),
            caFile: z.string().optional(),
            requireClientCert: boolean(false),
          })
          .prefault({}),
        maxPayloadBytes: int(64 * 1024, 256, 16 * 1024 * 1024),
        /** Embedded broker: longest PUBLISH topic / SUBSCRIBE filter in bytes; longer ones are refused. */
        maxTopicLength: int(DEFAULT_LIMITS.maxTopicLength, 1, 65_535),
        /** Embedded broker: largest payload per topic kind in bytes, 0 = no limit of its own; larger are refused. */
        maxPayloadByTopic: z
          .strictObject({
            telemetry: payloadLimit("telemetry"),
            birth: payloadLimit("birth"),
            status: payloadLimit("status"),
            scheduleRequest: payloadLimit("scheduleRequest"),
            scheduleReply: payloadLimit("scheduleReply"),
            coordinatorStatus: payloadLimit("coordinatorStatus"),
            report: payloadLimit("report"),
            other: payloadLimit("other"),
          })
          .prefault({}),
        /** Embedded broker: PUBLISH messages per second per client (token bucket), 0 = off; the coordinator is exempt. */
        maxPublishRate: z.coerce.number().min(0).max(1_000_000).default(DEFAULT_LIMITS.maxPublishRate),
        /** Embedded broker: messages a client may send at once before maxPublishRate applies. */
        publishBurst: int(DEFAULT_LIMITS.publishBurst, 1, 1_000_000),
        /** Embedded broker: a CONNECT announcing more bytes is dropped at its fixed header, before auth. */
        maxConnectBytes: int(64 * 1024, 1024, 16 * 1024 * 1024),
        /** Embedded broker: sockets per remote address open without a completed CONNECT; more are closed. */
        maxPendingPerAddress: int(64, 1, 1_000_000),
        /** Embedded broker: all sockets at once; keep it below the open-file limit (`ulimit -n`). */
        maxConnections: int(10_000, 1, 1_000_000),
        /** Embedded broker: new sockets per second per remote address (burst: twice that), 0 = no limit. */
        maxConnectRatePerAddress: z.coerce.number().min(0).max(1_000_000).default(0),
        /** Embedded broker: time a new socket has to send CONNECT. */
        connectTimeout: duration("10s", 100),
        /** Embedded broker: messages queued per persistent session (offline or awaiting PUBACK), 0 = no limit. */
        maxQueuedMessages: int(1000, 0, 10_000_000),
        /** Embedded broker: payload bytes queued per persistent session, 0 = no limit. */
        maxQueuedBytes: int(16 * 1024 * 1024, 0, 2 ** 31),
        /** Embedded broker: payload bytes of all retained messages together, 0 = no limit; past it they are not kept. */
        maxRetainedBytes: int(256 * 1024 * 1024, 0, 2 ** 40),
        /** Embedded broker: password checks (scrypt) running at once; more wait in authQueue. */
        authConcurrency: int(2, 1, 64),
        /** Embedded broker: password checks waiting; past this a CONNECT gets CONNACK 3 (server unavailable). */
        authQueue: int(16, 0, 100_000),
        /** Embedded broker: node ids never seen before that one client id may publish for, a minute; 0 = no limit. */
        maxNewNodesPerClient: int(10, 0, 1_000_000),
        /** Embedded broker: the same per remote address; 0 = no limit (the simulator brings 1,000 from loopback). */
        maxNewNodesPerAddress: int(0, 0, 1_000_000),
      })
      .prefault({}),
    agent: z
      .strictObject({
        /** Node id in topics; defaults to the Kubernetes node name (NODE_NAME) or the hostname. */
        nodeName: z.string().optional(),
        interval: duration("5s", 100),
        stateDir: z.string().default("./data"),
        labels,
        /** host:port probed by TCP for internet reachability, e.g. 1.1.1.1:443; unset: not checked. */
        internetTarget: hostPort.optional(),
        /** The agent's own Prometheus /metrics (samples, publishes, buffer depth); unset: off. */
        metricsListen: hostPort.optional(),
        internetTimeout: duration("2s"),
        internetEvery: duration("30s"),
        /** Store-and-forward buffer ({stateDir}/{node}.buffer.db): samples kept at most; 0 = no buffer. */
        bufferMaxSamples: int(10_000, 0, 10_000_000),
        /** Buffered samples older than this are dropped (and counted). */
        bufferMaxAge: duration("24h", 1000, Number.POSITIVE_INFINITY),
        /** Buffered samples replayed per second at most, beside the live ones (mind a broker's rate limit). */
        bufferReplayRate: z.coerce.number().gt(0).max(10_000).default(20),
        /** The host's /proc, /sys and / as the agent sees them (a DaemonSet mounts them, e.g. at /host/...). */
        procRoot: z.string().min(1).default("/proc"),
        sysRoot: z.string().min(1).default("/sys"),
        rootfs: z.string().min(1).default("/"),
        /** Hold telemetry in the buffer until the coordinator's status says ONLINE; false: only while OFFLINE. */
        waitForCoordinator: boolean(true),
      })
      .prefault({}),
    coordinator: z
      .strictObject({
        reportInterval: duration("30s", 100),
        /** A node is stale after this many missed sampling intervals — in the report and for the scheduler alike... */
        staleAfterIntervals: int(3, 1, 1000),
        /** ...and offline after this many, if its Will never came. */
        offlineAfterIntervals: int(12, 2, 10_000),
        /** OFFLINE nodes silent this long leave the report; their retained birth and status are cleared. */
        expireOfflineAfter: duration("24h", 1000, Number.POSITIVE_INFINITY),
        /** A fleet report encoded larger than this is not published, but counted as failed and logged: keep it
         *  at or below the broker's packet limit (embedded: 16 MiB; Mosquitto: message_size_limit). */
        maxReportBytes: int(16 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
        /** Latest report as text, rewritten every report interval. */
        output: z.string().optional(),
        /** Replicas compete for a coordination.k8s.io/v1 Lease; only the leader acts (kube-scheduler's timings). */
        leaderElection: z
          .object({
            /** auto: on when a cluster is reachable and the broker is not embedded in this process. */
            enabled: z.union([z.literal("auto"), z.boolean(), z.enum(["true", "false"])]).default("auto"),
            /** The Lease's namespace; unset: k3s.namespace (the manifests set the pod's own). */
            namespace: z.string().optional(),
            leaseName: z.string().default("k3s-fleet-coordinator"),
            /** Holder identity; unset: the pod name (POD_NAME) or hostname plus a random instance id. */
            identity: z
              .string()
              .regex(/^[^/+#\s]{1,200}$/, "no '/', '+', '#' or spaces, at most 200 characters")
              .optional(),
            leaseDuration: duration("15s", 1000),
            renewDeadline: duration("10s", 500),
            retryPeriod: duration("2s", 100),
          })
          .superRefine((e, ctx) => {
            // client-go's rule: the leader gives up (renew deadline) before the others may take over.
            if (e.leaseDuration <= e.renewDeadline)
              ctx.addIssue({ code: "custom", message: "leaseDuration must be longer than renewDeadline" });
            if (e.renewDeadline <= e.retryPeriod * 1.2)
              ctx.addIssue({
                code: "custom",
                message: "renewDeadline must be longer than 1.2 × retryPeriod",
              });
          })
          .prefault({}),
      })
      .prefault({}),
    http: z
      .strictObject({
        /** Coordinator's /healthz, /readyz, /metrics; "off" disables them. */
        listen: z.union([z.literal("off"), hostPort]).default("127.0.0.1:9464"),
        /** Bearer token (or HTTP basic password) for the web view; needed, or a users file, off loopback. */
        token: z.string().min(16, "must be at least 16 characters").optional(),
      })
      .prefault({}),
    k3s: z
      .strictObject({
        /** Namespace for pods created from schedule requests (the old tool's -namespace). */
        namespace: z.string().default("default"),
        /** Explicit kubeconfig; otherwise in-cluster, KUBECONFIG, ~/.kube/config, /etc/rancher/k3s/k3s.yaml. */
        kubeconfig: z.string().optional(),
        /** Never contact Kubernetes: nodes are the agents and decisions are advisory. */
        standalone: boolean(false),
        connectTimeout: duration("5s"),
        metricsInterval: duration("15s", 1000),
      })
      .prefault({}),
    scheduling: z
      .strictObject({
        /** Act on decisions: bind pending pods with our schedulerName, answer MQTT schedule requests. */
        enabled: boolean(true),
        /** spec.schedulerName this coordinator schedules (and sets on pods it creates). */
        schedulerName: z
          .string()
          .default("k3s-fleet")
          .refine((n) => n.length <= 253 && DNS_SUBDOMAIN.test(n), { message: "must be a DNS subdomain" }),
        /** Namespaces requests may create pods in; unset: only k3s.namespace. */
        allowedNamespaces: stringList([]),
        /** Image prefixes requests may use ("docker.io/library" = Docker Official Images, "*" = any, [] = none). */
        allowedRegistries: stringList(["docker.io/library"]),
        /** Largest CPU / memory request or limit a request may ask for (no limit is set unless asked for). */
        maxCpu: quantity("4"),
        maxMemory: quantity("8Gi"),
        /** node:sqlite file: request ids (idempotency across restarts) and decision analytics. Unset: {agent.stateDir}/scheduling.sqlite. */
        store: z.string().optional(),
        /** How long a request id is remembered. */
        requestRetention: duration("24h", 1000, Number.POSITIVE_INFINITY),
        /** Retry backoff of unschedulable pods (kube-scheduler: 1s doubling to 10s). */
        backoffInitial: duration("1s", 10),
        backoffMax: duration("10s", 10),
        /** The whole scheduling snapshot is rebuilt at least this often, a safety net: pod, node and telemetry events are applied as they arrive. */
        snapshotMaxAge: duration("10s", 100),
        /** Decisions kept for the report's analytics. */
        decisionWindow: int(10_000, 100, 1_000_000),
        /** Decisions older than this are deleted from the store. */
        decisionRetention: duration("720h", 1000, Number.POSITIVE_INFINITY),
        /** MQTT schedule requests waiting for (or in) a decision at most; past it, refused with the reason. */
        maxQueuedRequests: int(100, 1, 1_000_000),
        /** Per requester: the broker user (embedded broker), else the request's client_id. */
        quota: z
          .strictObject({
            /** Schedule requests a minute (token bucket, bursts of a tenth); 0: unbounded. */
            requestsPerMinute: int(600, 0, 1_000_000),
            /** Sum of CPU / memory requests of the pods a requester's requests created; unset: unbounded. */
            cpu: optionalQuantity,
            memory: optionalQuantity,
          })
          .prefault({}),
        /** Reject nodes whose agent never sent telemetry (otherwise a node without an agent is not filtered). */
        requireTelemetry: boolean(false),
        /** NodeResourcesFit scoring: LeastAllocated spreads pods, MostAllocated packs them (bin packing). */
        scoringStrategy: z.enum(["LeastAllocated", "MostAllocated"]).default("LeastAllocated"),
        /** Reject nodes whose agent reports real use above these percentages. */
        pressure: z
          .strictObject({
            cpuPercent: z.coerce.number().min(0).max(100).default(95),
            memoryPercent: z.coerce.number().min(0).max(100).default(95),
            /** Fullest filesystem; kubelet's hard eviction threshold is nodefs.available < 10 %. */
            diskPercent: z.coerce.number().min(0).max(100).default(90),
          })
          .prefault({}),
        /**
         * NodeResourcesFit scoringStrategy.resources (and BalancedAllocation's): resource → weight 1–100,
         * e.g. { cpu: 1, memory: 1, nvidia.com/gpu: 5 }; env: cpu=1,memory=1,nvidia.com/gpu=5.
         */
        scoringResources: scoringResources,
        /** InterPodAffinityArgs.hardPodAffinityWeight: score weight of an existing pod's required affinity term the pod matches. */
        hardPodAffinityWeight: int(1, 0, 100),
        /** NodeAffinityArgs.addedAffinity: a Kubernetes NodeAffinity added to every pod (YAML object, or JSON in env). */
        addedAffinity: addedAffinity,
        /** Score plugin weights, 0 disables one (kube-scheduler defaults where it has one). */
        weights: z
          .strictObject({
            resourceAllocation: int(1, 0, 100),
            balancedAllocation: int(1, 0, 100),
            taintToleration: int(3, 0, 100),
            nodeAffinity: int(2, 0, 100),
            spread: int(2, 0, 100),
            liveLoad: int(2, 0, 100),
            interPodAffinity: int(2, 0, 100),
          })
          .prefault({}),
      })
      .prefault({}),
    logging: z
      .strictObject({
        level: logLevel.default("info"),
        /** Log file; default is standard error, so reports on standard output stay clean. */
        file: z.string().optional(),
        /** auto: human-readable and coloured on a terminal, JSON lines otherwise (and always in a file). */
        format: z.enum(["auto", "json", "pretty"]).default("auto"),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    const t = c.broker.listenTls;
    if (Boolean(t.certFile) !== Boolean(t.keyFile)) {
      ctx.addIssue({
        code: "custom",
        path: ["broker", "listenTls"],
        message: "certFile and keyFile go together",
      });
    }
    if (t.requireClientCert && !t.caFile) {
      ctx.addIssue({
        code: "custom",
        path: ["broker", "listenTls", "caFile"],
        message: "requireClientCert needs caFile",
      });
    }
    if (c.scheduling.backoffMax < c.scheduling.backoffInitial) {
      ctx.addIssue({
        code: "custom",
        path: ["scheduling", "backoffMax"],
        message: "must be at least scheduling.backoffInitial",
      });
    }
    const longest = longestContractTopic(c.topicRoot);
    if (c.broker.maxTopicLength < longest) {
      ctx.addIssue({
        code: "custom",
        path: ["broker", "maxTopicLength"],
        message: `must be at least ${longest}: the longest contract topic under "${c.topicRoot}"`,
      });
    }
    if (c.coordinator.offlineAfterIntervals <= c.coordinator.staleAfterIntervals) {
      ctx.addIssue({
        code: "custom",
        path: ["coordinator", "offlineAfterIntervals"],
        message: "must be greater than coordinator.staleAfterIntervals",
      });
    }
  })
  // All state under one directory: the scheduling store follows agent.stateDir (--state-dir) unless set.
  .transform((c) => ({
    ...c,
    scheduling: { ...c.scheduling, store: c.scheduling.store ?? join(c.agent.stateDir, "scheduling.sqlite") },
  }));

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
