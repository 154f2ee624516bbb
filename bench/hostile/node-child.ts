// Benchmark child for bench/hostile.bench.ts: the legitimate node, in its own process so the flood's
// socket churn in the parent does not delay its own timing. `node-child.ts PORT FIRST COUNT DEADLINE_MS`:
// nodes edge-FIRST … edge-(FIRST+COUNT-1), one a second (each on its own), each a user that never connected before, from
// 127.0.0.2, retrying on CONNACK 3 after 200 ms like an agent; prints one JSON line per node.
import { createConnection, type Socket } from "node:net";
import { awaitConnack, connectPacket } from "../../test/support/raw-mqtt.ts";

const [port, first, count, deadlineMs] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
];

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** One node: time from its first socket to CONNACK 0, retrying on CONNACK 3 after 200 ms like an agent. */
async function connectNode(i: number) {
  const tick = performance.now();
  let tries = 0;
  while (performance.now() - tick < deadlineMs) {
    tries++;
    const s = await open();
    s.on("error", () => undefined);
    s.write(connectPacket({ clientId: `edge-${i}`, username: `edge-${i}`, password: `secret-${i}` }));
    const code = await awaitConnack(s, Math.max(1, deadlineMs - (performance.now() - tick)));
    s.destroy();
    if (code === 0) return { node: i, ms: Math.round(performance.now() - tick), tries };
    await new Promise((r) => setTimeout(r, 200));
  }
  return { node: i, ms: null, tries };
}

// One node a second, each on its own (a slow one does not delay the next).
const runs: Array<Promise<void>> = [];
for (let k = 0; k < count; k++) {
  runs.push(
    new Promise((r) => setTimeout(r, k * 1000))
      .then(() => connectNode(first + k))
      .then((result) => {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      }),
  );
}
await Promise.all(runs);
process.exit(0);
