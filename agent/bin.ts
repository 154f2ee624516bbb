// Entry point of the bundled agent, dist/k3s-fleet-agent.mjs (scripts/build-agent.ts): `node
// k3s-fleet-agent.mjs agent|capture ...`. Runs on Node.js >= 20 (on 20, without the telemetry buffer).

// MQTT.js parses broker URLs with url.parse(); Node warns about that (DEP0169) only for code outside
// node_modules, which bundled code is. The URL was validated by the config schema; the warning is noise.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const [type, code] = rest;
  const named = typeof type === "object" && type !== null ? (type as { code?: string }).code : code;
  if (named === "DEP0169") return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const [{ main }, { describeFailure }] = await Promise.all([import("./main.ts"), import("../cli/failure.ts")]);
try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`k3s-fleet-agent: ${describeFailure(error)}\n`);
  process.exit(1);
}
