// The cluster edge schedules with the shared one-shot timer (common/timers.ts).
export { REAL_TIMERS, type Timers } from "../../common/timers.ts";
