// Staff dashboard: live transcript and hand-off queue (Server-Sent Events from /staff/live, polling where
// EventSource is missing), waiting times, NLU toggle. No inline scripts (CSP).
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

  function onQueue(data) {
    var badge = document.getElementById("handoff-badge");
    if (!data || !badge) return;
    badge.textContent = data.waiting ? String(data.waiting) : "";
    badge.setAttribute("aria-label", data.waiting + " waiting");
    var count = document.getElementById("open-count");
    if (count) count.textContent = String(data.open);
    refreshQueue(data.version);
  }

  function poll() {
    var badge = document.getElementById("handoff-badge");
    if (!badge) return;
    fetch(badge.getAttribute("data-poll"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(onQueue)
      .catch(function () {});
  }

  // A new transcript line from the live feed: rendered (and escaped) by the server with the page's own
  // template; appended at the end, so what the reader is looking at and where focus is stay as they are.
  function onLine(data) {
    var list = document.getElementById("transcript");
    if (!list || list.querySelector('[data-index="' + data.index + '"]')) return;
    var doc = new DOMParser().parseFromString("<ol>" + data.html + "</ol>", "text/html");
    var item = doc.querySelector("li");
    if (!item) return;
    var empty = list.querySelector(".empty-transcript");
    if (empty) empty.remove();
    var atBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 4;
    var y = window.scrollY;
    list.appendChild(document.importNode(item, true));
    if (!atBottom && window.scrollY !== y) window.scrollTo(window.scrollX, y);
    list.setAttribute("data-after", String(data.index + 1));
    var count = document.getElementById("c-count");
    if (count && parseInt(count.textContent, 10) < data.index + 1) count.textContent = String(data.index + 1);
    var last = document.getElementById("c-last");
    var time = item.querySelector("time");
    if (last && time) last.textContent = time.textContent;
    var status = document.getElementById("live-status");
    if (status && data.from !== "assistant") {
      status.textContent = data.from === "person" ? "New message from the person." : "New staff message.";
    }
  }

  function live() {
    var badge = document.getElementById("handoff-badge");
    if (!badge) return;
    if (!window.EventSource) { poll(); setInterval(poll, POLL_MS); return; }
    var url = "/staff/live";
    var list = document.getElementById("transcript");
    if (list && list.getAttribute("data-conversation")) {
      url += "?conversation=" + encodeURIComponent(list.getAttribute("data-conversation")) +
        "&after=" + encodeURIComponent(list.getAttribute("data-after") || "0");
    }
    var source = new EventSource(url);
    var fallback = null;
    source.addEventListener("queue", function (e) { onQueue(JSON.parse(e.data)); });
    source.addEventListener("line", function (e) { onLine(JSON.parse(e.data)); });
    source.addEventListener("reset", function () {
      var status = document.getElementById("live-status");
      if (status) status.textContent = "This conversation changed (it may have been deleted). Reload the page.";
    });
    source.addEventListener("signed-out", function () { source.close(); });
    source.addEventListener("open", function () {
      if (fallback) { clearInterval(fallback); fallback = null; }
    });
    // The browser reconnects by itself (retry: from the server); a closed stream (signed out, or the
    // server refused it) falls back to polling the badge, which stops mattering once signed out.
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED && !fallback) fallback = setInterval(poll, POLL_MS);
    });
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
    live();
    setInterval(tick, 1000);
  });
})();
