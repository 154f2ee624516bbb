// Leadership in Prometheus: whether this instance leads, and how often it became the leader.
import { Counter, Gauge, type Registry } from "prom-client";

export function registerLeadershipMetrics(
  registry: Registry,
  read: () => { leading: boolean; transitions: number },
): void {
  new Gauge({
    name: "k3sfleet_leader",
    help: "1 while this coordinator instance holds the leader Lease and acts, 0 while it is a standby.",
    registers: [registry],
    collect() {
      this.set(read().leading ? 1 : 0);
    },
  });
  let counted = 0;
  new Counter({
    name: "k3sfleet_leader_transitions_total",
    help: "Times this coordinator instance became the leader.",
    registers: [registry],
    collect() {
      const { transitions } = read();
      if (transitions > counted) this.inc(transitions - counted);
      counted = transitions;
    },
  });
}
