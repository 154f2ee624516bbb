// What `k3s-fleet top` sorts by: its own file, so registering the command loads nothing of the view.
export type SortKey = "cpu" | "memory" | "disk" | "name";
export const SORT_KEYS: readonly SortKey[] = ["cpu", "memory", "disk", "name"];

/** Backspace in the label prompt: drops the last character as typed (an emoji is two UTF-16 units). */
export function withoutLastChar(text: string): string {
  return Array.from(text).slice(0, -1).join("");
}
