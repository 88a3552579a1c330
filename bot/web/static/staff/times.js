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

  var UTC_TEXT = /^\s*(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC\s*$/;

  // Pages that print a plain "2026-03-01 09:30:00 UTC" (in a table cell, or a <time> whose datetime is
  // that text): the same, as <time datetime="...Z">.
  function upgrade(root) {
    Array.prototype.forEach.call(root.querySelectorAll("td, time, #c-last"), function (el) {
      if (el.tagName === "TIME") {
        var m = UTC_TEXT.exec(el.getAttribute("datetime") || "");
        if (m) { el.setAttribute("datetime", m[1] + "T" + m[2] + "Z"); el.setAttribute("title", m[0].trim()); }
        return;
      }
      if (el.children.length || !UTC_TEXT.test(el.textContent)) return;
      var parts = UTC_TEXT.exec(el.textContent), time = document.createElement("time");
      time.setAttribute("datetime", parts[1] + "T" + parts[2] + "Z");
      time.setAttribute("title", parts[0].trim());
      time.textContent = parts[0].trim();
      el.textContent = "";
      el.appendChild(time);
    });
  }

  function localize(root) {
    if (!format || !root || !root.querySelectorAll) return;
    upgrade(root);
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
      // New lines from the live feed, a refreshed queue, the "last message" time staff.js rewrites.
      new MutationObserver(function () { localize(document); })
        .observe(document.body, {childList: true, subtree: true});
    }
  });
})();
