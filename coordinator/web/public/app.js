// The page: a hash router over three views, all fed by one live stream.
import { replace } from "./dom.js";
import { fleetView } from "./fleet.js";
import { nodeView } from "./node.js";
import { schedulingView } from "./scheduling.js";
import { createStore } from "./stream.js";

const store = createStore();
const main = document.getElementById("view");
const live = document.getElementById("live");
let current;

function route() {
  current?.destroy();
  const hash = location.hash.replace(/^#/, "") || "/";
  let view;
  let name;
  if (hash.startsWith("/node/")) {
    let id = "";
    try {
      id = decodeURIComponent(hash.slice("/node/".length));
    } catch {}
    view = nodeView(store, id);
    name = "node";
  } else if (hash === "/scheduling") {
    view = schedulingView(store);
    name = "scheduling";
  } else {
    view = fleetView(store);
    name = "fleet";
  }
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === name);
  document.body.dataset.view = name;
  replace(main, view.element);
  view.mounted?.();
  current = view;
}

store.subscribe((change) => {
  if (change.kind !== "status") return;
  live.textContent = store.connected ? "live" : "reconnecting…";
  live.classList.toggle("on", store.connected);
});
window.addEventListener("hashchange", route);
route();
store.connect();
