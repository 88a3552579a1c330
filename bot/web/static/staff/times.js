// Staff dashboard: times in the reader's own time zone. The server writes
// <time datetime="2026-03-01T09:30:00Z" title="... UTC">... UTC</time>; this shows the local time and keeps
// the UTC time on hover (title). Lines added later (the live feed) are converted too. No inline scripts (CSP).
(function () {
  "use strict";
  var format = null;
  try {
    format = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  } catch (e) { format = null; }

  function localize(root) {
    if (!format || !root || !root.querySelectorAll) return;
    var list = root.matches && root.matches("time[datetime]") ? [root] : root.querySelectorAll("time[datetime]");
    Array.prototype.forEach.call(list, function (el) {
      if (el.getAttribute("data-local")) return;
      var iso = el.getAttribute("datetime");
      if (!/Z$/.test(iso)) return;
      var when = new Date(iso);
      if (isNaN(when.getTime())) return;
      var utc = el.getAttribute("title") || el.textContent;
      el.setAttribute("title", utc);
      el.textContent = format.format(when);
      el.setAttribute("data-local", "1");
    });
  }

  // "Go to the message that raised the alert": scroll to it and move keyboard focus there.
  function focusLinks() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-focus]");
      if (!link) return;
      var target = document.getElementById(link.getAttribute("data-focus"));
      if (!target) return;
      event.preventDefault();
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.scrollIntoView({block: "center"});
      target.focus({preventScroll: true});
      if (history.replaceState) history.replaceState(null, "", "#" + target.id);
    });
  }

  window.staffTimes = {localize: localize};
  document.addEventListener("DOMContentLoaded", function () {
    localize(document);
    focusLinks();
    if (window.MutationObserver) {
      new MutationObserver(function (changes) {
        changes.forEach(function (change) {
          Array.prototype.forEach.call(change.addedNodes, function (node) { if (node.nodeType === 1) localize(node); });
        });
      }).observe(document.body, {childList: true, subtree: true});
    }
  });
})();
