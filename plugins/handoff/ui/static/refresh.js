// Refresh the handoff page's live part: one small GET every data-refresh seconds, none while
// the tab is hidden, none once the run ended (data-final="true"). Served by the plugin; no CDN.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var status = document.getElementById("refreshed");
  if (!live) { return; }
  var every = Math.max(Number(live.getAttribute("data-refresh")) || 30, 2) * 1000;
  var url = live.getAttribute("data-src");
  function ended() {
    var part = live.firstElementChild;
    return part !== null && part.getAttribute("data-final") === "true";
  }
  function tick() {
    if (ended()) { return; }
    if (document.hidden) { window.setTimeout(tick, every); return; }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        live.innerHTML = html;
        var part = live.firstElementChild;
        if (status && part) {
          status.textContent = "Updated " + new Date().toISOString().slice(11, 19) +
            " UTC: " + part.getAttribute("data-phase");
        }
      })
      .catch(function (error) {
        if (status) { status.textContent = "Could not refresh (" + error.message + "); retrying."; }
      })
      .finally(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);
})();
