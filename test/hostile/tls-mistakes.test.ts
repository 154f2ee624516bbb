// One-shot commands against a broker reached with the wrong TLS choice: mqtts:// to a plain-MQTT port, or a
// TLS broker whose certificate nothing here trusts. Neither passes by waiting, so `report` says why at once
// instead of waiting out --timeout to say only "no fleet report".
import { once } from "node:events";
import { createServer as createTcpServer, type Server } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { certificateAuthority, signedCertificate } from "../support/certs.ts";
import { runCliToEnd } from "../support/cli.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.close();
  }
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

/** Waits 60 s for the report; the answer must come long before. */
const report = (url: string) => runCliToEnd(["report", "--broker", url, "--timeout", "60s"], {}, 20_000);

describe("report with the wrong TLS choice says why at once", () => {
  it("mqtts:// to a port that speaks plain MQTT", async () => {
    // A plain MQTT listener closes a connection whose first bytes are not a CONNECT (a TLS ClientHello).
    const port = await listen(createTcpServer((socket) => socket.once("data", () => socket.destroy())));
    const r = await report(`mqtts://127.0.0.1:${port}`);
    expect(r.stderr).toContain(`no TLS handshake with mqtts://127.0.0.1:${port}`);
    expect(r.code).toBe(1);
  });

  it("a TLS broker whose certificate is signed by a CA nobody named", async () => {
    const ca = await certificateAuthority("unknown-ca");
    const leaf = await signedCertificate(ca, { commonName: "broker", usage: "server", ips: ["127.0.0.1"] });
    const port = await listen(createTlsServer({ cert: leaf.cert, key: leaf.key }, (s) => s.destroy()));
    const r = await report(`mqtts://127.0.0.1:${port}`);
    expect(r.stderr).toMatch(
      /the broker's certificate is not trusted \(.+\): name its CA with broker\.caFile/,
    );
    expect(r.code).toBe(1);
  });
});
