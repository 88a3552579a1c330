// Staff dashboard: live hand-off queue (polling), waiting times, NLU toggle. No inline scripts (CSP).
(function () {
  "use strict";
  var POLL_MS = 4000;

  function waited(since) {
    var s = Math.max(0, Math.floor(Date.now() / 1000 - since));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function tick() {
    document.querySelectorAll(".waited[data-since]").forEach(function (el) {
      el.textContent = waited(parseFloat(el.getAttribute("data-since")));
    });
  }

  function refreshQueue(version) {
    var holder = document.querySelector("[data-fragment]");
    var queue = document.getElementById("queue");
    if (!holder || !queue || queue.getAttribute("data-version") === version) return;
    fetch(holder.getAttribute("data-fragment"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        // The fragment is rendered (and escaped) by the server; parse it and swap the table in.
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("queue");
        if (fresh) { queue.replaceWith(document.importNode(fresh, true)); tick(); }
      });
  }

  function poll() {
    var badge = document.getElementById("handoff-badge");
    if (!badge) return;
    fetch(badge.getAttribute("data-poll"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        badge.textContent = data.waiting ? String(data.waiting) : "";
        badge.setAttribute("aria-label", data.waiting + " waiting");
        var count = document.getElementById("open-count");
        if (count) count.textContent = String(data.open);
        refreshQueue(data.version);
      })
      .catch(function () {});
  }

  function nluToggle() {
    var link = document.getElementById("nlu-toggle");
    var list = document.getElementById("transcript");
    if (!link || !list) return;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var on = list.classList.toggle("show-nlu");
      link.setAttribute("aria-pressed", on ? "true" : "false");
      link.textContent = (on ? "Hide" : "Show") + " NLU details";
    });
    link.addEventListener("keydown", function (event) {
      if (event.key === " ") { event.preventDefault(); link.click(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    nluToggle();
    tick();
    poll();
    setInterval(poll, POLL_MS);
    setInterval(tick, 1000);
  });
})();
