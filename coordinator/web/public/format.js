// Numbers and times as the page shows them.

export function pct(v) {
  return v === null || v === undefined ? "–" : `${v.toFixed(1)}%`;
}

export function num(v, digits = 2) {
  return v === null || v === undefined ? "–" : v.toFixed(digits);
}

export function temp(v) {
  return v === null || v === undefined ? "–" : `${v.toFixed(1)} °C`;
}

export function rate(bytesPerSec) {
  const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
  let v = bytesPerSec ?? 0;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Number(n ?? 0);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** "12s", "3m 4s", "2h 5m", "3d 4h" for a duration in ms. */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return `${hr}h ${m % 60}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/** "12s ago" from an epoch-ms time and the server's clock offset. */
export function ago(at, now) {
  return at === null || at === undefined ? "never" : `${duration(now - at)} ago`;
}

export function clock(at) {
  return new Date(at).toLocaleTimeString();
}

export function labelText(labels) {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** A configured period: "500 ms", "5s", "1m 0s". */
export function period(ms) {
  return ms > 0 && ms < 1000 ? `${Math.round(ms)} ms` : duration(ms);
}
