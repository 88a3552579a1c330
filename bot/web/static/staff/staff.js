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

  // --- alerts: a new crisis hand-off or escalation -------------------------------------------------
  // Sound (WebAudio, mutable, remembered in localStorage), a desktop notification if permission was
  // granted (asked only from a button), "(n) " in the tab title, and the new row highlighted.
  var SEEN_KEY = "ipt-staff-seen-alerts", NEW_KEY = "ipt-staff-new-alerts", SOUND_KEY = "ipt-staff-sound";
  var stats = window.staffAlerts = {beeps: 0, notifications: 0, alerts: 0};
  var audio = null;
  var baseTitle = document.title;

  function stored(key) {
    try { var v = JSON.parse(sessionStorage.getItem(key) || "null"); return Array.isArray(v) ? v : null; }
    catch (e) { return null; }
  }
  function store(key, list) { try { sessionStorage.setItem(key, JSON.stringify(list)); } catch (e) { /* private mode */ } }
  function soundOn() { try { return localStorage.getItem(SOUND_KEY) !== "off"; } catch (e) { return true; } }

  function beep() {
    if (!soundOn()) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
      var t = audio.currentTime, osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.setValueAtTime(880, t);
      osc.frequency.setValueAtTime(660, t + 0.18);
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.4);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.42);
      stats.beeps += 1;
    } catch (e) { /* no audio device */ }
  }

  function notify(alert) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      // No message text in a desktop notification: it may show on a shared screen.
      var n = new Notification(alert.kind === "escalation" ? "Hand-off not taken in time" : "New crisis hand-off", {
        body: (alert.category ? alert.category + ". " : "") + "A person is waiting. Open the hand-off queue.",
        tag: alert.key
      });
      n.onclick = function () { window.focus(); window.location.href = "/staff/handoffs"; };
      stats.notifications += 1;
    } catch (e) { /* notifications unavailable */ }
  }

  function setTitle(waiting) {
    document.title = (waiting ? "(" + waiting + ") " : "") + baseTitle;
  }

  function highlight() {
    var fresh = stored(NEW_KEY) || [];
    document.querySelectorAll("#queue tr[data-alerts]").forEach(function (row) {
      var keys = row.getAttribute("data-alerts").split(" ");
      var isNew = keys.some(function (k) { return fresh.indexOf(k) !== -1; });
      row.classList.toggle("is-new", isNew);
      var tag = row.querySelector(".new-tag");
      if (tag) tag.hidden = !isNew;
    });
  }

  // Seen once the person at the screen touches the row (click, or focus by keyboard).
  function acknowledge(event) {
    var row = event.target.closest && event.target.closest("#queue tr[data-alerts]");
    if (!row) return;
    var keys = row.getAttribute("data-alerts").split(" ");
    store(NEW_KEY, (stored(NEW_KEY) || []).filter(function (k) { return keys.indexOf(k) === -1; }));
    highlight();
  }

  function onAlerts(data) {
    var current = data.alerts || [];
    var keys = current.map(function (a) { return a.key; });
    var seen = stored(SEEN_KEY);
    var fresh = (stored(NEW_KEY) || []).filter(function (k) { return keys.indexOf(k) !== -1; });
    if (seen !== null) {
      var arrived = current.filter(function (a) { return seen.indexOf(a.key) === -1; });
      if (arrived.length) {
        stats.alerts += arrived.length;
        beep();
        arrived.forEach(function (a) { notify(a); fresh.push(a.key); });
        var status = document.getElementById("alert-status");
        if (status) {
          status.textContent = arrived.length === 1
            ? (arrived[0].kind === "escalation" ? "A hand-off was not taken in time." : "New crisis hand-off waiting.")
            : arrived.length + " new hand-off alerts.";
        }
      }
    }
    // The first state this tab sees is the baseline: what was already there does not sound.
    store(SEEN_KEY, keys);
    store(NEW_KEY, fresh);
    setTitle(data.waiting);
    highlight();
  }

  function soundToggle() {
    var button = document.getElementById("sound-toggle");
    if (!button) return;
    function show() {
      var on = soundOn();
      button.setAttribute("aria-pressed", on ? "false" : "true");
      button.textContent = on ? "Mute alerts" : "Alerts muted";
    }
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      try { localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on"); } catch (e) { /* private mode */ }
      show();
      if (soundOn()) beep();  // a sample, and the click lets the browser start audio
    });
  }

  function notifyButton() {
    var button = document.getElementById("notify-toggle");
    if (!button || !("Notification" in window) || Notification.permission !== "default") return;
    button.hidden = false;
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function () { button.hidden = Notification.permission !== "default"; });
    });
  }

  // Browsers start audio only after the person has interacted with the page.
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try { audio = audio || new Ctx(); if (audio.state === "suspended") audio.resume(); } catch (e) { /* none */ }
  }

  // --- the queue table ----------------------------------------------------------------------------

  // What identifies a control across a refresh: its form's action and name, or its link.
  function focusKey(el) {
    if (!el || !el.closest || !el.closest("#queue")) return null;
    if (el.form) return {form: el.form.getAttribute("action"), name: el.getAttribute("name") || el.textContent};
    if (el.getAttribute("href")) return {href: el.getAttribute("href")};
    var row = el.closest("tr[data-alerts]");
    return row ? {row: row.getAttribute("data-alerts")} : null;
  }

  function findByKey(root, key) {
    var found = null;
    root.querySelectorAll("a, button, input, select, tr[data-alerts]").forEach(function (el) {
      if (found) return;
      if (key.form && el.form && el.form.getAttribute("action") === key.form &&
          (el.getAttribute("name") || el.textContent) === key.name) found = el;
      else if (key.href && el.getAttribute("href") === key.href) found = el;
      else if (key.row && el.getAttribute("data-alerts") === key.row) found = el;
    });
    return found;
  }

  function refreshQueue(version) {
    var holder = document.querySelector("[data-fragment]");
    var queue = document.getElementById("queue");
    if (!holder || !queue || queue.getAttribute("data-version") === version) return;
    fetch(holder.getAttribute("data-fragment"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        // The fragment is rendered (and escaped) by the server; parse it and swap the table in,
        // keeping keyboard focus on the same control (or its row's place) and the scroll position.
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("queue");
        var current = document.getElementById("queue");
        if (!fresh || !current) return;
        var key = focusKey(document.activeElement);
        var hadFocus = current.contains(document.activeElement);
        var x = window.scrollX, y = window.scrollY;
        var node = document.importNode(fresh, true);
        current.replaceWith(node);
        tick();
        highlight();
        if (hadFocus) {
          var target = (key && findByKey(node, key)) || node;
          if (target === node) node.setAttribute("tabindex", "-1");
          target.focus({preventScroll: true});
        }
        window.scrollTo(x, y);
      });
  }

  function onQueue(data) {
    var badge = document.getElementById("handoff-badge");
    if (!data || !badge) return;
    badge.textContent = data.waiting ? String(data.waiting) : "";
    badge.setAttribute("aria-label", data.waiting + " waiting");
    var count = document.getElementById("open-count");
    if (count) count.textContent = String(data.open);
    var waitingCount = document.getElementById("waiting-count");
    if (waitingCount) waitingCount.textContent = String(data.waiting);
    onAlerts(data);
    refreshQueue(data.version);
    onHandoffChange(data.handoffs || {});
  }

  // On a conversation page: say so when a colleague takes the hand-off or it ends, without a reload.
  function onHandoffChange(handoffs) {
    var panel = document.getElementById("handoff");
    var notice = document.getElementById("handoff-changed");
    if (!panel || !notice || !panel.getAttribute("data-handoff")) return;
    var now = handoffs[panel.getAttribute("data-handoff")];
    var owner = now ? (now.taken_by || "") : null;
    if (now && now.status === panel.getAttribute("data-status") && owner === panel.getAttribute("data-owner")) return;
    if (!now) notice.textContent = "This hand-off has ended. Reload the page to see its current state.";
    else if (now.status === "taken") notice.textContent = owner + " has taken this hand-off over.";
    else notice.textContent = "This hand-off changed. Reload the page to see its current state.";
    notice.hidden = false;
    var shown = document.getElementById("handoff-owner");
    if (shown && now && now.taken_by) shown.textContent = now.taken_by;
    panel.setAttribute("data-status", now ? now.status : "closed");
    panel.setAttribute("data-owner", owner || "");
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

  // While the owner of a taken hand-off types a reply, the person's widget shows "<name> from the clinic
  // is typing…": at most one notice every 3 s (the widget hides it 6 s after the last one).
  function typingNotice() {
    var form = document.getElementById("reply-bar");
    var box = document.getElementById("reply-text");
    if (!form || !box || !form.dataset.typing || !window.fetch) return;
    var csrf = form.querySelector("input[name=csrf_token]");
    var last = 0;
    box.addEventListener("input", function () {
      var now = Date.now();
      if (!box.value.trim() || now - last < 3000) return;
      last = now;
      fetch(form.dataset.typing, {method: "POST", credentials: "same-origin",
        headers: {"X-CSRF-Token": csrf ? csrf.value : "", "Accept": "application/json"}}).catch(function () {});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    typingNotice();
    nluToggle();
    soundToggle();
    notifyButton();
    document.addEventListener("click", unlockAudio, {once: true});
    document.addEventListener("keydown", unlockAudio, {once: true});
    document.addEventListener("click", acknowledge);
    document.addEventListener("focusin", acknowledge);
    tick();
    highlight();
    live();
    setInterval(tick, 1000);
  });
})();
