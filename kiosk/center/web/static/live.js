// The overview's live parts: server-sent events (the browser's own EventSource) replace each part when it
// changes. A part being typed into is left alone until the next change; new fever and referral cases are
// highlighted.
"use strict";
(function () {
  const live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  const state = document.getElementById("live-state");
  const seen = new Set();
  document.querySelectorAll("[data-entry-id]").forEach((row) => seen.add(row.dataset.entryId));
  const source = new EventSource(live.dataset.source);
  source.addEventListener("open", () => {
    state.textContent = live.dataset.connected;
    state.className = "live-state connected";
  });
  source.addEventListener("error", () => {
    state.textContent = live.dataset.disconnected;
    state.className = "live-state disconnected";
  });
  source.addEventListener("overview", (event) => {
    const parts = JSON.parse(event.data);
    for (const [name, html] of Object.entries(parts)) {
      const target = live.querySelector(`[data-part="${name}"]`);
      if (!target) continue;
      if (target.contains(document.activeElement) && document.activeElement.tagName === "INPUT"
          && document.activeElement.value) continue;
      target.innerHTML = html;
    }
    live.querySelectorAll("[data-entry-id]").forEach((row) => {
      if (!seen.has(row.dataset.entryId)) {
        seen.add(row.dataset.entryId);
        row.classList.add("new");
      }
    });
  });
})();
