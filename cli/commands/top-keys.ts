// What `k3s-fleet top` sorts by: its own file, so registering the command loads nothing of the view.
export type SortKey = "cpu" | "memory" | "disk" | "name";
export const SORT_KEYS: readonly SortKey[] = ["cpu", "memory", "disk", "name"];
