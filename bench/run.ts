// The benchmark suite of issue 6: `npm run bench` (full, under 15 minutes) or `npm run bench -- --quick`
// (under 2 minutes). Every figure comes from a bounded run on loopback; the figures, with the date, the
// machine, the Node version, the command and the load average, replace this mode's section of
// bench/results.md (between its markers), and the raw results go to a JSON file in the temp directory.
//
//   node bench/run.ts [--quick] [--only ingest,maxrate,deadnode,scheduling,memory] [--brokers aedes,mosquitto]
//                     [--no-write] [--profile DIR] [--verbose]
//
// Processes: this one only orchestrates. The coordinator (with the embedded aedes broker in the same
// process, or against a Mosquitto process) runs in one child, the fleet simulator in another, so each
// one's CPU and RSS are read from /proc apart. See bench/suite/*.ts for each benchmark.
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { crashDeaths, silentDeaths } from "./suite/dead-node.ts";
import { loadAverage, machineFacts } from "./suite/harness.ts";
import { runIngest } from "./suite/ingest.ts";
import { runMaxRate } from "./suite/max-rate.ts";
import { runMemory } from "./suite/memory.ts";
import {
  BENCH_MOSQUITTO_CONFIG,
  DEFAULT_QUEUE_MOSQUITTO_CONFIG,
  useMosquittoConfig,
} from "./suite/mosquitto.ts";
import {
  type IngestRow,
  type ReportCost,
  renderRun,
  type SuiteResults,
  type TenKExtras,
} from "./suite/report.ts";
import type { BrokerKind } from "./suite/rig.ts";
import { schedulingUnderLoad } from "./suite/scheduling.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    brokers: { type: "string", default: "aedes,mosquitto" },
    "no-write": { type: "boolean", default: false },
    profile: { type: "string" },
    verbose: { type: "boolean", default: false },
    "mosquitto-defaults": { type: "boolean", default: false },
    // Experiments: only the ingest runs with these node counts; another coordinator report interval (s).
    nodes: { type: "string" },
    "report-interval": { type: "string" },
    // Experiments: the rate search's offered rates (msg/s, comma-separated) and simulator processes.
    rates: { type: "string" },
    "sim-processes": { type: "string" },
    // Experiments: Node/V8 flags for the coordinator child, e.g. "--trace-gc --max-semi-space-size=32".
    "coordinator-flags": { type: "string" },
    // Re-render a previous run's raw JSON into results.md (no measurement).
    render: { type: "string" },
  },
});
if (values["mosquitto-defaults"]) useMosquittoConfig(DEFAULT_QUEUE_MOSQUITTO_CONFIG);
if (values.render) {
  const previous = JSON.parse(readFileSync(values.render, "utf8")) as SuiteResults;
  const section = renderRun(previous);
  process.stdout.write(`${section}\n`);
  if (!values["no-write"]) writeSection(section, previous.mode);
  process.exit(0);
}
const quick = values.quick;
const mode = quick ? "quick" : "full";
const only = new Set((values.only ?? "ingest,maxrate,deadnode,scheduling,memory").split(","));
const brokers = (values.brokers ?? "")
  .split(",")
  .filter((b): b is BrokerKind => b === "aedes" || b === "mosquitto");

/** Everything a mode decides; written into results.md as "Settings". */
const plan = quick
  ? {
      budgetS: 115,
      ingest: [
        { broker: "aedes" as const, nodes: 1000, extras: false },
        { broker: "mosquitto" as const, nodes: 10_000, extras: true },
      ],
      windowS: 5,
      warmupS: 2,
      drainMs: 3000,
      // 2,000/s overflowed Mosquitto's listen backlog here (SYN retries, slow connects); 1,000/s did not.
      connectRate: 1000,
      schedulingRates: [100],
      schedulingS: 5,
      killK: 20,
      // One 10 s step; in quick mode its window is the "sustained" figure (finalS 0).
      maxRate: {
        brokers: ["aedes" as const],
        nodes: 2000,
        rates: [10_000],
        processes: 1,
        stepS: 10,
        warmupS: 2,
        finalS: 0,
      },
      memoryNodes: 2000,
    }
  : {
      budgetS: 14 * 60,
      ingest: [
        { broker: "aedes" as const, nodes: 1000, extras: false },
        // Dead-node detection through aedes here too: 10,000 nodes did not connect through aedes on this machine.
        { broker: "aedes" as const, nodes: 5000, extras: true },
        { broker: "aedes" as const, nodes: 10_000, extras: true },
        { broker: "mosquitto" as const, nodes: 1000, extras: false },
        { broker: "mosquitto" as const, nodes: 5000, extras: false },
        { broker: "mosquitto" as const, nodes: 10_000, extras: true },
      ],
      windowS: 15,
      warmupS: 5,
      drainMs: 5000,
      connectRate: 1000,
      schedulingRates: [50, 200],
      schedulingS: 10,
      killK: 20,
      maxRate: {
        brokers: ["aedes" as const, "mosquitto" as const],
        nodes: 5000,
        rates: [5000, 10_000, 15_000, 20_000, 25_000, 30_000],
        processes: 1,
        stepS: 8,
        warmupS: 3,
        finalS: 60,
      },
      memoryNodes: 10_000,
    };

const t0 = performance.now();
const startedAt = new Date().toISOString();
const budgetEnd = t0 + plan.budgetS * 1000;
const remainingMs = () => budgetEnd - performance.now();
const lifetimeMs = (plan.budgetS + 120) * 1000;
const log = (text: string) =>
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0)} s] ${text}\n`);
const errorText = (error: unknown) =>
  (error instanceof Error ? error.message.split("\n")[0] : String(error)) ?? "";

// The suite must end by itself whatever happens (children end with us: see harness.ts).
setTimeout(
  () => {
    log("the suite overran its budget by two minutes; giving up");
    process.exit(2);
  },
  (plan.budgetS + 120) * 1000,
).unref();

const results: SuiteResults = {
  mode,
  command: `npm run bench${
    quick || values.only || values.profile
      ? ` --${process.argv
          .slice(2)
          .map((a) => ` ${a}`)
          .join("")}`
      : ""
  }`,
  startedAt,
  finishedAt: "",
  seconds: 0,
  machine: machineFacts(),
  loadStart: loadAverage(),
  loadEnd: "",
  mosquittoConfig: values["mosquitto-defaults"] ? DEFAULT_QUEUE_MOSQUITTO_CONFIG : BENCH_MOSQUITTO_CONFIG,
  settings: {
    "ingest window": `${plan.windowS} s after ${plan.warmupS} s warm-up`,
    "drain allowed": `${plan.drainMs / 1000} s`,
    "connect rate": `${plan.connectRate}/s`,
    "simulated keepalive": "5 s",
    "coordinator report interval": values["report-interval"]
      ? `${values["report-interval"]} s`
      : "30 s (default)",
    "nodes killed": plan.killK,
  },
  ingest: [],
  maxRate: [],
  notes: [],
};

log(`${mode} run, budget ${plan.budgetS} s, load ${results.loadStart}`);

// --- 1a (+ 2 and 4 at 10,000 nodes) --------------------------------------------------------------------
if (only.has("ingest") || only.has("deadnode") || only.has("scheduling")) {
  for (const { broker, nodes, extras: withExtras } of plan.ingest) {
    if (!brokers.includes(broker)) continue;
    if (!only.has("ingest") && !withExtras) continue;
    if (values.nodes && !values.nodes.split(",").map(Number).includes(nodes)) continue;
    const need = (nodes / plan.connectRate + plan.warmupS + plan.windowS + 15) * 1000;
    if (remainingMs() < need) {
      results.ingest.push({ broker, nodes, error: "not started: not enough time left in the budget" });
      continue;
    }
    log(`ingest: ${broker}, ${nodes} nodes`);
    const row: IngestRow = { broker, nodes };
    try {
      row.result = await runIngest<TenKExtras | undefined>({
        broker,
        nodes,
        intervalMs: 1000,
        windowSeconds: plan.windowS,
        warmupSeconds: plan.warmupS,
        drainMs: plan.drainMs,
        connectRate: plan.connectRate,
        keepaliveSeconds: 5,
        lifetimeMs,
        verbose: values.verbose,
        profileFile:
          values.profile && withExtras
            ? join(values.profile, `${mode}-${broker}-${nodes}.cpuprofile`)
            : undefined,
        victims: withExtras && only.has("deadnode") ? plan.killK : undefined,
        coordinatorExecArgv: values["coordinator-flags"]?.split(" ").filter(Boolean),
        reportIntervalMs: values["report-interval"] ? Number(values["report-interval"]) * 1000 : undefined,
        extras: withExtras
          ? async (rig, fleet, victims) => {
              const extras: TenKExtras = { reportCost: [], scheduling: [] };
              for (let i = 0; i < (quick ? 1 : 3); i++) {
                extras.reportCost.push(await rig.child.request<ReportCost>("reportCost", {}, 60_000));
              }
              if (only.has("scheduling") && nodes >= 10_000) {
                for (const rate of plan.schedulingRates) {
                  log(`scheduling under load: ${broker}, ${rate}/s`);
                  try {
                    extras.scheduling.push({
                      rate,
                      window: await schedulingUnderLoad(rig, fleet, rate, plan.schedulingS, plan.drainMs),
                    });
                  } catch (error) {
                    extras.scheduling.push({ rate, error: errorText(error) });
                  }
                }
              }
              if (only.has("deadnode")) {
                log(`dead nodes: ${broker}, crash`);
                extras.crash = await crashDeaths(rig, fleet, plan.killK).catch((e: unknown) => ({
                  error: errorText(e),
                }));
                if (victims) {
                  log(`dead nodes: ${broker}, silent`);
                  extras.silent = await silentDeaths(rig, victims).catch((e: unknown) => ({
                    error: errorText(e),
                  }));
                }
              }
              return extras;
            }
          : undefined,
      });
      const w = row.result;
      log(
        `  ${Math.round(w.receivedPerSecond)}/s received, ${w.lost} lost, p50/p99 ${w.latencyMs.p50}/${w.latencyMs.p99} ms, coordinator ${w.usage.coordinator?.cpuPercent.toFixed(0)} % CPU; ${w.teardown}`,
      );
    } catch (error) {
      row.error = errorText(error);
      log(`  failed: ${row.error}`);
    }
    results.ingest.push(row);
  }
}

// --- 1b ------------------------------------------------------------------------------------------------
if (only.has("maxrate")) {
  for (const broker of plan.maxRate.brokers) {
    if (!brokers.includes(broker)) continue;
    log(`highest rate: ${broker}`);
    try {
      const r = await runMaxRate({
        broker,
        nodes: plan.maxRate.nodes,
        rates: values.rates ? values.rates.split(",").map(Number) : plan.maxRate.rates,
        simulatorProcesses: values["sim-processes"]
          ? Number(values["sim-processes"])
          : plan.maxRate.processes,
        stepSeconds: plan.maxRate.stepS,
        warmupSeconds: plan.maxRate.warmupS,
        finalSeconds: plan.maxRate.finalS,
        drainMs: plan.drainMs,
        connectRate: plan.connectRate,
        lifetimeMs,
        maxP99Ms: 1000,
        remainingMs: () => remainingMs() - (only.has("memory") ? (quick ? 12_000 : 40_000) : 0),
        verbose: values.verbose,
      });
      results.maxRate.push(r);
      log(
        `  best ${r.best ?? "none"}; sustained: ${r.final ? (r.final.pass ? "yes" : `no (${r.final.why})`) : "not run"}`,
      );
    } catch (error) {
      results.maxRate.push({ broker, error: errorText(error) });
      log(`  failed: ${errorText(error)}`);
    }
  }
  results.settings["rate search"] =
    plan.maxRate.finalS > 0
      ? `${plan.maxRate.nodes} nodes, offered ${plan.maxRate.rates.join(", ")} msg/s in ${plan.maxRate.stepS} s steps, stop at the first failure, then ${plan.maxRate.finalS} s at the best (and at the next lower if that fails)`
      : `${plan.maxRate.nodes} nodes, one ${plan.maxRate.stepS} s window at ${plan.maxRate.rates.join(", ")} msg/s`;
}

// --- 3 ---------------------------------------------------------------------------------------------------
if (only.has("memory")) {
  log(`memory: ${plan.memoryNodes} nodes, one hour of history`);
  try {
    results.memory = await runMemory(plan.memoryNodes, Math.max(30_000, remainingMs() + 60_000));
  } catch (error) {
    results.memory = { error: errorText(error) };
  }
}

results.finishedAt = new Date().toISOString();
results.seconds = (performance.now() - t0) / 1000;
results.loadEnd = loadAverage();
if (quick) {
  results.notes.push(
    "Quick mode: 5 s ingest windows; the rate check is one 10 s window at 10,000 msg/s through aedes (not a " +
      "search, and not 60 s); aedes only at 1,000 nodes, Mosquitto at 10,000; memory at 2,000 nodes. " +
      "Use the full run for the issue's figures.",
  );
}

const json = join(tmpdir(), `k3sf-bench-${mode}-${startedAt.replace(/[:.]/g, "-")}.json`);
writeFileSync(json, JSON.stringify(results, null, 2));
const section = renderRun(results);
process.stdout.write(`${section}\n`);
log(`raw results: ${json}`);

if (!values["no-write"]) writeSection(section);
log(`done in ${results.seconds.toFixed(0)} s`);
process.exit(0);

/** Replaces this mode's section of bench/results.md (between its markers), or appends it. */
function writeSection(section: string, sectionMode: string = mode): void {
  const file = new URL("./results.md", import.meta.url);
  const begin = `<!-- bench:${sectionMode}:begin -->`;
  const end = `<!-- bench:${sectionMode}:end -->`;
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = "# Benchmark suite results\n";
  }
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  const block = `${begin}\n${section}\n${end}`;
  text =
    a >= 0 && b > a
      ? `${text.slice(0, a)}${block}${text.slice(b + end.length)}`
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
  process.stderr.write(`[bench] wrote the ${sectionMode} section of bench/results.md\n`);
}
