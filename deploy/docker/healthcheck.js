// Docker HEALTHCHECK for the coordinator image: GET /healthz on the coordinator's HTTP endpoint.
// The address is http.listen as the environment gives it (K3S_FLEET_HTTP_LISTEN), else the default
// 127.0.0.1:9464; a wildcard address is probed on loopback. "off" (no endpoint) counts as healthy.
// Set in a config file instead of the environment? Set K3S_FLEET_HTTP_LISTEN too, or this probes 9464.
import { request } from "node:http";

const listen = process.env.K3S_FLEET_HTTP_LISTEN || "127.0.0.1:9464";
if (listen === "off") process.exit(0);
const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
if (!match) {
  console.error(`healthcheck: cannot parse K3S_FLEET_HTTP_LISTEN=${listen}`);
  process.exit(1);
}
let host = match[1] ?? match[2];
if (host === "0.0.0.0") host = "127.0.0.1";
if (host === "::") host = "::1";
const req = request({ host, port: Number(match[3]), path: "/healthz", timeout: 3000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("timed out")));
req.on("error", (error) => {
  console.error(`healthcheck: ${error.message}`);
  process.exit(1);
});
req.end();
