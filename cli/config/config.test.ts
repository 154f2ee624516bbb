import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.ts";
import { envVariables } from "./env.ts";
import { ConfigError, loadConfig } from "./load.ts";
import { configSchema } from "./schema.ts";

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "k3sf-config-")), "config.yaml");
  writeFileSync(path, text);
  return path;
};
const none = file("");

describe("durations", () => {
  it.each([
    ["500ms", 500],
    ["5s", 5000],
    ["1m30s", 90_000],
    ["2h", 7_200_000],
    ["1.5s", 1500],
    ["0", 0],
  ])("%s = %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "fast", "5 s", "-1s", "1d", "s5", "5s5", "250", "1.5"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("formats whole units", () => {
    expect([
      formatDuration(5000),
      formatDuration(90_000),
      formatDuration(120_000),
      formatDuration(250),
    ]).toEqual(["5s", "90s", "2m", "250ms"]);
  });
});

describe("loadConfig", () => {
  it("has defaults that run on one machine", () => {
    const c = loadConfig({ file: none, env: {} });
    expect(c.topicRoot).toBe("k3s-fleet/v1");
    expect(c.broker.embedded).toBe("127.0.0.1:1883");
    expect(c.agent.interval).toBe(5000);
    expect(c.agent.internetTarget).toBeUndefined();
    expect(c.k3s.namespace).toBe("default");
    expect(c.logging.level).toBe("info");
  });

  it("applies flags > env > file > defaults", () => {
    const path = file(
      "agent:\n  interval: 10s\n  nodeName: from-file\nk3s:\n  namespace: file-ns\nlogging:\n  level: warn\n",
    );
    const env = { K3S_FLEET_AGENT_INTERVAL: "20s", K3S_NAMESPACE: "env-ns" };
    const c = loadConfig({ file: path, env, flags: { agent: { interval: "1s", nodeName: undefined } } });
    expect(c.agent.interval).toBe(1000); // flag
    expect(c.agent.nodeName).toBe("from-file"); // undefined flag does not override
    expect(c.k3s.namespace).toBe("env-ns"); // legacy env over file
    expect(c.logging.level).toBe("warn"); // file over default
  });

  it("reads the old tool's K3S_LOG_LEVEL, and the prefixed name wins over it", () => {
    expect(loadConfig({ file: none, env: { K3S_LOG_LEVEL: "debug" } }).logging.level).toBe("debug");
    // The old tool's K3S_LOG_LEVEL took any case (logrus), and "warning".
    expect(loadConfig({ file: none, env: { K3S_LOG_LEVEL: "DEBUG" } }).logging.level).toBe("debug");
    expect(loadConfig({ file: none, env: { K3S_LOG_LEVEL: "Warning" } }).logging.level).toBe("warn");
    const both = { K3S_LOG_LEVEL: "debug", K3S_FLEET_LOGGING_LEVEL: "error" };
    expect(loadConfig({ file: none, env: both }).logging.level).toBe("error");
  });

  it("derives env names from the schema", () => {
    const names = envVariables().map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining([
        "K3S_FLEET_TOPIC_ROOT",
        "K3S_FLEET_BROKER_URL",
        "K3S_FLEET_BROKER_MAX_PAYLOAD_BYTES",
        "K3S_FLEET_AGENT_INTERVAL",
        "K3S_FLEET_COORDINATOR_REPORT_INTERVAL",
        "K3S_NAMESPACE",
      ]),
    );
    const labels = loadConfig({ file: none, env: { K3S_FLEET_AGENT_LABELS: "zone=north,tier=edge" } }).agent
      .labels;
    expect(labels).toEqual({ zone: "north", tier: "edge" });
  });

  it("fails fast listing every problem with its path", () => {
    const path = file("agent:\n  interval: soon\nbroker:\n  embedded: localhost\n");
    try {
      loadConfig({
        file: path,
        env: { K3S_FLEET_LOGGING_LEVEL: "loud", K3S_FLEET_COORDINATOR_STALE_AFTER_INTERVALS: "x" },
      });
      expect.unreachable("invalid config was accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toMatch(/agent\.interval: "soon" is not a duration/);
      expect(problems).toMatch(/broker\.embedded: expected host:port/);
      expect(problems).toMatch(/logging\.level/);
      expect(problems).toMatch(/coordinator\.staleAfterIntervals/);
      expect((error as ConfigError).code).toBe("K3SF_ERR_CONFIG");
    }
  });

  it.each(["ftp://x", "ws://127.0.0.1:1883", "mqtt://127.0.0.1:99999", "broker:1883"])(
    "says what a broker URL looks like when given %j",
    (url) => {
      expect(() => loadConfig({ file: none, env: { K3S_FLEET_BROKER_URL: url } })).toThrow(
        `broker.url: ${JSON.stringify(url)} is not an MQTT broker URL: expected mqtt://HOST:PORT or mqtts://HOST:PORT`,
      );
    },
  );

  it("refuses agent labels the coordinator would refuse in a birth", () => {
    const long = "v".repeat(321);
    const many = Array.from({ length: 257 }, (_, i) => `k${i}=v`).join(",");
    const wide = Array.from({ length: 30 }, (_, i) => `k${i}=${"v".repeat(300)}`).join(",");
    expect(() => loadConfig({ file: none, env: { K3S_FLEET_AGENT_LABELS: `zone=${long}` } })).toThrow(
      'agent.labels: label "zone": 321 characters, more than 320',
    );
    expect(() => loadConfig({ file: none, env: { K3S_FLEET_AGENT_LABELS: many } })).toThrow(
      "agent.labels: 257 labels, more than 256",
    );
    expect(() => loadConfig({ file: none, env: { K3S_FLEET_AGENT_LABELS: wide } })).toThrow(
      /agent\.labels: 9\d\d\d characters of labels, more than 8192/,
    );
    const fine = loadConfig({ file: none, env: { K3S_FLEET_AGENT_LABELS: `zone=${"v".repeat(320)}` } });
    expect(fine.agent.labels.zone).toHaveLength(320);
  });

  it("says which label in a YAML map is not a string, instead of 'Invalid input'", () => {
    const yaml = file("agent:\n  labels:\n    zone: north\n    rack: 03\n    gpu: true\n    spare:\n");
    expect(() => loadConfig({ file: yaml, env: {} })).toThrow(
      'agent.labels: label "rack" is the number 3, label "gpu" is the boolean true, label "spare" has no value: ' +
        'quote each value in the YAML (rack: "03", not rack: 03) so it is kept as written',
    );
    const quoted = loadConfig({ file: file('agent:\n  labels:\n    rack: "03"\n'), env: {} });
    expect(quoted.agent.labels).toEqual({ rack: "03" });
  });

  it("does not repeat the password of a wrong broker URL", () => {
    expect(() =>
      loadConfig({ file: none, env: { K3S_FLEET_BROKER_URL: "ws://ops:s3cret@broker:1883" } }),
    ).toThrow(/broker\.url: "ws:\/\/ops:\*\*\*@broker:1883" is not an MQTT broker URL/);
  });

  it("rejects an offline threshold that is not after the stale one", () => {
    const flags = { coordinator: { staleAfterIntervals: 5, offlineAfterIntervals: 5 } };
    expect(() => loadConfig({ file: none, env: {}, flags })).toThrow(
      /offlineAfterIntervals: must be greater/,
    );
  });

  it("refuses a duration without a unit, from a flag, the environment or the file", () => {
    const problems = (load: () => unknown) => {
      try {
        load();
      } catch (error) {
        return (error as ConfigError).problems.join("\n");
      }
      return "accepted";
    };
    expect(problems(() => loadConfig({ file: none, env: {}, flags: { agent: { interval: "250" } } }))).toBe(
      "agent.interval: 250 has no unit: write 250ms or 250s (units: ms, s, m, h)",
    );
    expect(problems(() => loadConfig({ file: none, env: { K3S_FLEET_BROKER_KEEPALIVE: "30" } }))).toMatch(
      /broker\.keepalive: 30 has no unit/,
    );
    expect(
      problems(() => loadConfig({ file: file("coordinator:\n  reportInterval: 5000\n"), env: {} })),
    ).toMatch(/coordinator\.reportInterval: 5000 has no unit/);
  });

  it("stops at unknown or misspelt keys in the file, naming the setting meant", () => {
    const path = file(
      "agnet:\n  interval: 5s\nagent:\n  intervall: 5s\n  reportInterval: 5s\nbroker:\n  usersfile: users.yaml\n  zzz: 1\n",
    );
    try {
      loadConfig({ file: path, env: {} });
      expect.unreachable("unknown keys were accepted");
    } catch (error) {
      expect((error as ConfigError).problems).toEqual(
        expect.arrayContaining([
          "agnet: unknown setting (did you mean agent?)",
          "agent.intervall: unknown setting (did you mean agent.interval?)",
          "broker.usersfile: unknown setting (did you mean broker.usersFile?)",
          "broker.zzz: unknown setting",
          "agent.reportInterval: unknown setting (did you mean coordinator.reportInterval?)",
        ]),
      );
    }
  });

  it("stops at unknown K3S_FLEET_* environment variables", () => {
    expect(() => loadConfig({ file: none, env: { K3S_FLEET_AGENT_INTERVALL: "5s" } })).toThrow(
      "environment K3S_FLEET_AGENT_INTERVALL: not a setting (did you mean K3S_FLEET_AGENT_INTERVAL?)",
    );
    expect(() =>
      loadConfig({ file: none, env: { K3S_FLEET_CONFIG: "x.yaml", OTHER_THING: "1" } }),
    ).not.toThrow();
  });

  it("keeps all state under one directory: the scheduling store follows agent.stateDir", () => {
    expect(loadConfig({ file: none, env: {} }).scheduling.store).toBe(join("data", "scheduling.sqlite"));
    const flags = { agent: { stateDir: "/srv/k3sf" } };
    expect(loadConfig({ file: none, env: {}, flags }).scheduling.store).toBe("/srv/k3sf/scheduling.sqlite");
    const env = { K3S_FLEET_SCHEDULING_STORE: "/elsewhere/s.db" };
    expect(loadConfig({ file: none, env, flags }).scheduling.store).toBe("/elsewhere/s.db");
  });

  it("names a missing or malformed config file", () => {
    expect(() => loadConfig({ file: "/nonexistent/config.yaml", env: {} })).toThrow(/cannot be read/);
    expect(() => loadConfig({ file: file("a: [unclosed"), env: {} })).toThrow(/config file/);
    expect(() => loadConfig({ file: file("- a\n- b\n"), env: {} })).toThrow(/mapping at the top level/);
  });
});

describe("the shipped config/config.yaml", () => {
  it("parses and changes nothing (every line is a commented default)", () => {
    const shipped = loadConfig({
      file: new URL("../../config/config.yaml", import.meta.url).pathname,
      env: {},
    });
    expect(shipped).toEqual(loadConfig({ file: none, env: {} }));
  });
});

describe("quantity settings", () => {
  it("take positive Kubernetes quantities, set or unset, and refuse the rest by name", () => {
    const config = configSchema.parse({
      scheduling: { maxCpu: 2, maxMemory: " 512Mi ", quota: { cpu: "500m" } },
    });
    expect(config.scheduling.maxCpu).toBe("2");
    expect(config.scheduling.maxMemory).toBe("512Mi");
    expect(config.scheduling.quota.cpu).toBe("500m");
    expect(config.scheduling.quota.memory).toBeUndefined();
    const refused = configSchema.safeParse({ scheduling: { maxCpu: "0", quota: { memory: "lots" } } });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["scheduling.maxCpu", '"0" is not a positive quantity (e.g. 500m, 4, 512Mi, 8Gi)'],
      ["scheduling.quota.memory", '"lots" is not a positive quantity (e.g. 500m, 4, 512Mi, 8Gi)'],
    ]);
  });
});
