// Only loopback is ever contacted here: a listening 127.0.0.1 port, and one that was just closed.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { canConnect, createInternetProbe, type HostPort, parseHostPort } from "./health.ts";

describe("parseHostPort", () => {
  it.each([
    { target: "1.1.1.1:443", expected: { host: "1.1.1.1", port: 443 } },
    { target: "example.org:53", expected: { host: "example.org", port: 53 } },
    { target: "[2606:4700:4700::1111]:443", expected: { host: "2606:4700:4700::1111", port: 443 } },
    { target: "1.1.1.1", expected: undefined },
    { target: "1.1.1.1:0", expected: undefined },
    { target: "1.1.1.1:70000", expected: undefined },
    { target: "2606:4700::1111:443", expected: undefined },
    { target: ":443", expected: undefined },
  ])("$target", ({ target, expected }) => {
    expect(parseHostPort(target)).toEqual(expected);
  });
});

describe("canConnect (loopback only)", () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function listen(): Promise<net.Server> {
    const server = net.createServer((socket) => socket.destroy());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return server;
  }
  const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

  it("is true for a listening port", async () => {
    const server = await listen();
    expect(await canConnect({ host: "127.0.0.1", port: portOf(server) }, 1000)).toBe(true);
  });

  it("is false, without throwing, for a closed port", async () => {
    const server = await listen();
    const port = portOf(server);
    await new Promise((resolve) => server.close(resolve));
    servers.pop();
    expect(await canConnect({ host: "127.0.0.1", port }, 1000)).toBe(false);
  });
});

describe("createInternetProbe", () => {
  function fakeConnect(answers: boolean[]) {
    const calls: HostPort[] = [];
    const connect = async (target: HostPort) => {
      calls.push(target);
      return answers.shift() ?? false;
    };
    return { calls, connect };
  }

  it("probes at most once per `everyMs` and answers from its cache in between", async () => {
    let mono = 0;
    const { calls, connect } = fakeConnect([true, false]);
    const probe = createInternetProbe({
      target: "1.1.1.1:443",
      timeoutMs: 100,
      everyMs: 30_000,
      monotonic: () => mono,
      connect,
    });
    expect(probe.latest()).toBe(false); // nothing known yet; a probe is now in flight
    await Promise.resolve();
    await Promise.resolve();
    expect(probe.latest()).toBe(true);
    mono = 29_999;
    expect(probe.latest()).toBe(true);
    expect(calls).toHaveLength(1);
    mono = 30_000;
    probe.latest();
    expect(await probe.check()).toBe(false);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({ host: "1.1.1.1", port: 443 });
  });

  it("joins a probe in flight instead of starting another", async () => {
    const { calls, connect } = fakeConnect([true]);
    const probe = createInternetProbe({ target: "127.0.0.1:9", timeoutMs: 100, everyMs: 0, connect });
    const [a, b] = await Promise.all([probe.check(), probe.check()]);
    expect([a, b]).toEqual([true, true]);
    expect(calls).toHaveLength(1);
  });

  it("is off without a target: latest() says 'not checked' (undefined), and nothing is probed", async () => {
    const { calls, connect } = fakeConnect([true]);
    const probe = createInternetProbe({ timeoutMs: 100, everyMs: 0, connect });
    expect(probe.latest()).toBeUndefined();
    expect(await probe.check()).toBe(false);
    expect(calls).toHaveLength(0);
  });

  it("rejects a target that is not host:port", () => {
    expect(() => createInternetProbe({ target: "nowhere", timeoutMs: 1, everyMs: 1 })).toThrow(
      expect.objectContaining({ code: "K3SF_ERR_HEALTH_TARGET" }),
    );
  });
});
