// A NodeSnapshot as text, in the spirit of the old tool's capture output. Pure: the snapshot in, lines out.
import type { NodeSnapshot } from "../proto/index.ts";
import { timestampMs } from "../proto/index.ts";

export interface RenderOptions {
  /** Print the timestamp in UTC instead of the local time zone (the old tool printed local time). */
  utc?: boolean;
}

export function renderSnapshot(snapshot: NodeSnapshot, options: RenderOptions = {}): string {
  const birth = snapshot.birth;
  const t = snapshot.telemetry;
  const lines = ["=== K3s Fleet Node Snapshot ==="];
  const ms = timestampMs(t?.time ?? birth?.time);
  lines.push(`Timestamp: ${ms === undefined ? "unknown" : formatTime(ms, options.utc ?? false)}`);
  lines.push("Local System:");
  if (birth) {
    const os = birth.os;
    const osText = os ? `${os.distro} ${os.release} (${os.platform} ${os.kernel} ${os.arch})` : "unknown";
    const k8s = birth.k8sNodeName ? `   K8s node: ${birth.k8sNodeName}` : "";
    lines.push(`  Node: ${birth.nodeId}${k8s}   Agent: ${birth.agentVersion}`);
    lines.push(
      `  Hostname: ${birth.hostname}   OS: ${osText}   Uptime: ${formatUptime(Number(t?.uptimeSeconds ?? 0n))}`,
    );
    if (birth.cpu?.model) lines.push(`  CPU: ${[birth.cpu.manufacturer, birth.cpu.model].join(" ").trim()}`);
  }
  if (t?.cpu) {
    const load = [t.cpu.load1m, t.cpu.load5m, t.cpu.load15m].map((l) => l.toFixed(2)).join(" ");
    lines.push(`  CPU Usage: ${t.cpu.usagePercent.toFixed(2)}% (${t.cpu.cores} cores)  Load: ${load}`);
  }
  if (t?.cpuTemperatureCelsius !== undefined) {
    lines.push(`  CPU Temperature: ${t.cpuTemperatureCelsius.toFixed(1)} °C`);
  }
  if (t?.memory) {
    const { totalBytes, usedBytes, swapTotalBytes, swapUsedBytes } = t.memory;
    lines.push(
      `  Memory Usage: ${percent(usedBytes, totalBytes)} (${formatBytes(usedBytes)} / ${formatBytes(totalBytes)})`,
    );
    if (swapTotalBytes > 0n) {
      lines.push(
        `  Swap Usage: ${percent(swapUsedBytes, swapTotalBytes)} (${formatBytes(swapUsedBytes)} / ${formatBytes(swapTotalBytes)})`,
      );
    }
  }
  if (t) {
    const disks = t.filesystems.map(
      (fs) => `${fs.mount} ${fs.usePercent.toFixed(1)}% of ${formatBytes(fs.sizeBytes)}`,
    );
    lines.push(`  Disks: ${disks.length > 0 ? disks.join(", ") : "none"}`);
    if (t.diskIo) {
      lines.push(
        `  Disk IO: read ${formatRate(t.diskIo.readBytesPerSec)} write ${formatRate(t.diskIo.writeBytesPerSec)}`,
      );
    }
    const defaultInterface = t.network?.defaultInterface ?? "";
    const interfaces = (t.network?.interfaces ?? []).map((i) => {
      const tag = i.name === defaultInterface ? " (default)" : "";
      return `${i.name}${tag} ${i.up ? "up" : "down"} rx ${formatRate(i.rxBytesPerSec)} tx ${formatRate(i.txBytesPerSec)}`;
    });
    lines.push(`  Network: ${interfaces.length > 0 ? interfaces.join("\n           ") : "none"}`);
    const h = t.health;
    const vpn = h?.vpn ? `true (${h.vpnInterface})` : "false";
    lines.push(`  Online: ${h?.online ?? false}  Internet: ${h?.internet ?? "not checked"}  VPN: ${vpn}`);
  }
  return `${lines.join("\n")}\n`;
}

/** "2024-01-15 10:30:45". */
export function formatTime(ms: number, utc: boolean): string {
  const d = new Date(ms);
  const [y, mo, day, h, mi, s] = utc
    ? [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${y}-${p(mo)}-${p(day)} ${p(h)}:${p(mi)}:${p(s)}`;
}

/** "3d 4h", "4h 12m", "12m". */
export function formatUptime(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return `${minutes}m`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Binary units, one decimal below 100 of a unit: "7.2 GiB", "250 GiB", "512 B". */
export function formatBytes(bytes: bigint | number): string {
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${value} B`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** Rates start at KiB/s so quiet links read "0.8 KiB/s", not "819 B/s". */
export function formatRate(bytesPerSec: bigint | number): string {
  const value = Number(bytesPerSec);
  return value < 1024 * 1024 ? `${(value / 1024).toFixed(1)} KiB/s` : `${formatBytes(value)}/s`;
}

function percent(part: bigint, whole: bigint): string {
  return whole > 0n ? `${((Number(part) / Number(whole)) * 100).toFixed(2)}%` : "0.00%";
}
