import { once } from "node:events";
import { type AddressInfo, connect, createServer } from "node:net";
import { expect, it } from "vitest";
import { runSliced } from "./run-sliced.ts";

/** Busy for `ms` milliseconds: a slice of real work. */
function busy(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

it("returns the generator's value", async () => {
  function* three(): Generator<void, number> {
    yield;
    yield;
    return 3;
  }
  await expect(runSliced(three())).resolves.toBe(3);
});

it("lets a socket read run between slices instead of after all of them", async () => {
  const server = createServer((socket) => socket.on("data", (data) => socket.write(data)));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
  await once(client, "connect");
  let slicesDone = 0;
  let echoedAfter: number | undefined;
  client.on("data", () => {
    echoedAfter ??= slicesDone;
  });
  function* work(): Generator<void, void> {
    client.write("ping");
    for (let i = 0; i < 50; i++) {
      busy(2);
      slicesDone++;
      yield;
    }
  }
  await runSliced(work());
  client.destroy();
  server.close();
  // The echo needs two reads (server, client); 50 slices of 2 ms leave it ~100 ms to arrive.
  expect(echoedAfter).toBeDefined();
  expect(echoedAfter).toBeLessThan(50);
});
