// The one configuration schema: types, defaults, validation. Env names are derived from its paths
// (K3S_FLEET_AGENT_INTERVAL ⇐ agent.interval) in env.ts, so adding a setting here is the whole change.
import { z } from "zod";
import { topicRootProblem } from "../../proto/topics.ts";
import { parseDuration } from "./duration.ts";

/** A duration given as "5s", "1m30s", "250ms" or milliseconds; parsed to milliseconds. */
const duration = (fallback: string, min = 1) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: `"${value}" is not a duration (e.g. 500ms, 5s, 1m)` });
        return z.NEVER;
      }
      if (ms < min) {
        ctx.addIssue({ code: "custom", message: `${value} is shorter than the minimum ${min}ms` });
        return z.NEVER;
      }
      return ms;
    });

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** `key=value,key=value` from env or flags, or a YAML map. */
const labels = z
  .union([z.record(z.string(), z.string()), z.string()])
  .default({})
  .transform((value, ctx) => {
    if (typeof value !== "string") return value;
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
  });

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:1883 or [::1]:1883");

const logLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

export const configSchema = z
  .object({
    /** MQTT topic root; the version is part of it. */
    topicRoot: z
      .string()
      .default("k3s-fleet/v1")
      .refine((r) => topicRootProblem(r) === undefined, {
        message: "must be a topic without wildcards or edge '/'",
      }),
    broker: z
      .object({
        /** External broker URL (mqtt://, mqtts://). Unset: the embedded broker's address. */
        url: z.url({ protocol: /^mqtts?$|^tcp$|^ssl$/ }).optional(),
        /** Where `up` and `coordinator --embedded-broker` listen. */
        embedded: hostPort.default("127.0.0.1:1883"),
        username: z.string().optional(),
        password: z.string().optional(),
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
          .object({
            certFile: z.string().optional(),
            keyFile: z.string().optional(),
            caFile: z.string().optional(),
            requireClientCert: z
              .union([z.boolean(), z.enum(["true", "false"])])
              .default(false)
              .transform((v) => v === true || v === "true"),
          })
          .prefault({}),
        maxPayloadBytes: int(64 * 1024, 256, 16 * 1024 * 1024),
      })
      .prefault({}),
    agent: z
      .object({
        /** Node id in topics; defaults to the Kubernetes node name (NODE_NAME) or the hostname. */
        nodeName: z.string().optional(),
        interval: duration("5s", 100),
        stateDir: z.string().default("./data"),
        labels,
        /** host:port probed by TCP for internet reachability, e.g. 1.1.1.1:443; unset: not checked. */
        internetTarget: hostPort.optional(),
        internetTimeout: duration("2s"),
        internetEvery: duration("30s"),
      })
      .prefault({}),
    coordinator: z
      .object({
        reportInterval: duration("30s", 100),
        /** A node is stale after this many missed sampling intervals... */
        staleAfterIntervals: int(3, 1, 1000),
        /** ...and offline after this many, if its Will never came. */
        offlineAfterIntervals: int(12, 2, 10_000),
        /** Latest report as text, rewritten every report interval. */
        output: z.string().optional(),
      })
      .prefault({}),
    http: z
      .object({
        /** Coordinator's /healthz, /readyz, /metrics; "off" disables them. */
        listen: z.union([z.literal("off"), hostPort]).default("127.0.0.1:9464"),
      })
      .prefault({}),
    k3s: z
      .object({
        /** Namespace for pods created from schedule requests (the old tool's -namespace). */
        namespace: z.string().default("default"),
        /** Explicit kubeconfig; otherwise in-cluster, KUBECONFIG, ~/.kube/config, /etc/rancher/k3s/k3s.yaml. */
        kubeconfig: z.string().optional(),
        /** Never contact Kubernetes: nodes are the agents and decisions are advisory. */
        standalone: z
          .union([z.boolean(), z.enum(["true", "false"])])
          .default(false)
          .transform((v) => v === true || v === "true"),
        connectTimeout: duration("5s"),
        metricsInterval: duration("15s", 1000),
      })
      .prefault({}),
    logging: z
      .object({
        level: logLevel.default("info"),
        /** Log file; default is standard error, so reports on standard output stay clean. */
        file: z.string().optional(),
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
    if (c.coordinator.offlineAfterIntervals <= c.coordinator.staleAfterIntervals) {
      ctx.addIssue({
        code: "custom",
        path: ["coordinator", "offlineAfterIntervals"],
        message: "must be greater than coordinator.staleAfterIntervals",
      });
    }
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
