// recovery-gateway support console: keeps a delivery page up to date until the delivery is final,
// then takes its final audit events from the page read afresh (parsed, never run). The page works
// without it (a <noscript> refresh does the same).
"use strict";
(function () {
  var page = document.getElementById("delivery");
  if (!page || page.dataset.final === "true") { return; }
  var url = page.dataset.statusUrl;
  function show(name, text) {
    var node = page.querySelector('[data-field="' + name + '"]');
    if (node) { node.textContent = text == null ? "" : String(text); }
  }
  function refreshEvents() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("events");
        var table = document.getElementById("events");
        if (fresh && table) { table.replaceWith(document.importNode(fresh, true)); }
      });
  }
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { if (!answer.ok) { throw new Error("status " + answer.status); } return answer.json(); })
      .then(function (d) {
        ["status", "failure", "attempts", "smtp_reply", "next_attempt_at", "sent_at"].forEach(function (k) { show(k, d[k]); });
        show("last_error", d.last_error ? d.last_error["class"] + ": " + d.last_error.message : "");
        if (d.status === "sent" || d.status === "failed") {
          page.dataset.final = "true";
          show("live", "Final.");
          refreshEvents();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { show("live", "Live updates stopped; reload the page."); });
  }
  window.setTimeout(poll, 500);
})();
