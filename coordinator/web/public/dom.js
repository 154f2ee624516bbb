// DOM building without HTML strings: every value from the bus (node ids, hostnames, labels, reasons) is
// attacker-controlled, so text only ever goes in through text nodes (textContent), never innerHTML.

/**
 * h("div", { class: "x", title: "…", dataset: { id } }, child, "text", …): children that are strings or
 * numbers become text nodes; null/undefined/false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el) el[key] = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** The hash link to a node's page; the id is percent-encoded, never parsed as markup. */
export function nodeHref(id) {
  return `#/node/${encodeURIComponent(id)}`;
}
