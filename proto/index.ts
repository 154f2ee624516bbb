// The wire contract: schema types, topics and codec. No I/O.
export * from "./codec.ts";
export * from "./gen/k3sfleet/v1/fleet_pb.js";
export * from "./topics.ts";
