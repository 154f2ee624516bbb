// Go-style durations ("500ms", "5s", "1m30s", "2h") as the old tool's flags took them. A unit is required:
// a bare "250" could mean seconds as easily as milliseconds, so it is not a duration ("0" excepted).
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Milliseconds in `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  if (trimmed === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const match = PART.exec(trimmed);
    if (!match) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return Math.round(total);
}

/**
 * The longest delay a Node.js timer keeps (about 24.8 days): a longer one fires after 1 ms
 * (TimeoutOverflowWarning), so an interval of "99999h" would run in a tight loop. Durations that set a
 * timer are bounded by it; ages and retentions, which are only compared with the clock, are not.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why `text` is not a usable duration between `min` and `max` ms, or undefined when it is. */
export function durationProblem(text: string, min = 1, max = MAX_TIMER_MS): string | undefined {
  const ms = parseDuration(text);
  if (ms === undefined) {
    return /^\s*\d+(\.\d+)?\s*$/.test(text)
      ? `${text} has no unit: write ${text.trim()}ms or ${text.trim()}s (units: ms, s, m, h)`
      : `"${text}" is not a duration (e.g. 500ms, 5s, 1m)`;
  }
  if (ms < min) return `${text} is shorter than the minimum ${formatDuration(min)}`;
  if (ms > max) {
    const why = max === MAX_TIMER_MS ? " (about 24.8 days, the longest a timer can wait)" : "";
    return `${text} is longer than the maximum ${formatDuration(max)}${why}`;
  }
  return undefined;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
