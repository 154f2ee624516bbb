// Encodes a FleetReport a slice of nodes at a time. Protobuf parses concatenated encodings of a message as
// one message whose repeated fields are appended (the merge rule of the binary encoding), so the report's
// own fields and each slice of its nodes can be encoded separately and joined: the bytes decode to the
// same report as `encode("report", report)`. Pure: a report in, bytes out.
import { create, toBinary } from "@bufbuild/protobuf";
import { type FleetReport, FleetReportSchema } from "../../proto/index.ts";
import { REPORT_SLICE_NODES } from "./build.ts";

export function* encodeReportInSlices(
  report: FleetReport,
  sliceNodes = REPORT_SLICE_NODES,
): Generator<void, Uint8Array> {
  const parts = [toBinary(FleetReportSchema, { ...report, nodes: [] })];
  for (let start = 0; start < report.nodes.length; start += sliceNodes) {
    yield;
    const slice = create(FleetReportSchema, { nodes: report.nodes.slice(start, start + sliceNodes) });
    parts.push(toBinary(FleetReportSchema, slice));
  }
  return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
}
