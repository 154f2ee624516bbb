// Performance timings for bench/web.bench.ts and anyone profiling the page: recorded only when the page
// is opened with ?timing, so a page left open for days does not collect entries without end.
const on = new URLSearchParams(location.search).has("timing");

export function measure(name, start, detail) {
  if (on) performance.measure(name, { start, detail });
}

export function mark(name, detail) {
  if (on) performance.mark(name, { detail });
}
