// The CSV import's progress bar: polls the import's JSON status and moves the bar; reloads the
// page when the job has ended (the page then shows the report or the result). An import whose
// worker died is failed by the server after a while without progress (the status says so), so
// the polling ends then too; after repeated errors it stops. Without JavaScript the page
// refreshes itself (a <noscript> meta refresh).
(function () {
  "use strict";
  const section = document.querySelector("[data-import-progress]");
  if (!section) return;
  const bar = section.querySelector("[data-import-bar]");
  const done = section.querySelector("[data-import-done]");
  const total = section.querySelector("[data-import-total]");
  const label = document.querySelector("[data-import-status-label]");

  function show(state) {
    bar.max = Math.max(state.total_rows, 1);
    bar.value = state.processed_rows;
    bar.textContent = state.percent + " %";
    if (done) done.textContent = state.processed_rows.toLocaleString();
    if (total) total.textContent = state.total_rows.toLocaleString();
    if (label) label.textContent = state.status_label;
  }

  const MAX_FAILURES = 20;
  let failures = 0;

  function poll() {
    fetch(section.dataset.statusUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((state) => {
        failures = 0;
        show(state);
        if (state.running) {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(() => {
        // The server keeps failing (or the session ended): stop; the Refresh button stays.
        failures += 1;
        if (failures < MAX_FAILURES) window.setTimeout(poll, 3000);
      });
  }
  window.setTimeout(poll, 500);
})();
