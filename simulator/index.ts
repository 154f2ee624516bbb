// The fleet simulator: N virtual agents over real MQTT connections, for demos, load tests and benchmarks.
export type { Timers } from "../common/timers.ts";
export { SimulatorError, type SimulatorErrorCode } from "./errors.ts";
export { DEFAULT_FLAP_OPTIONS, type FlapOptions } from "./flap.ts";
export { nextSession, type Simulation, type SimulationStats, startSimulation } from "./fleet-sim.ts";
export type { LatencySummary } from "./latency.ts";
export { type MachineProfile, machineProfile, simNodeId } from "./machine.ts";
export { DEFAULT_MODEL_OPTIONS, type ModelOptions } from "./model.ts";
export {
  DEFAULT_SIMULATION_OPTIONS,
  type PublishEvent,
  type ResolvedSimulationOptions,
  resolveSimulationOptions,
  type SimulationOptions,
  simulationOptionProblems,
} from "./options.ts";
