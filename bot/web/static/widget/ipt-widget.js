/*!
 * IPT assistant chat widget. Embed with one tag:
 *   <script src="https://web.example.org/static/widget/ipt-widget.js"
 *           data-server="https://rasa.example.org" defer></script>
 * Optional data attributes: data-open="true" (open at load), data-container="#css-selector"
 * (render inside an element instead of floating), data-transport="rest" (never use socket.io),
 * data-storage="session" (forget the conversation when the tab closes), data-token="<JWT>"
 * (when the Rasa socket.io channel requires one), data-title, data-max-length (default 1000),
 * data-locale="en-GB" (sent with every message as metadata {"locale": ...}: the crisis lines of that
 * country, or the international ones for a country without lines; unset: the server's CRISIS_LOCALE),
 * data-session-url (default: the web app this script came from, /chat/session).
 *
 * The conversation id is the server's: the widget asks the web app (POST /chat/session) for an id and
 * its signed token, keeps them, and sends the token with every message (REST: Authorization: Bearer;
 * socket.io: in session_request). A proxy keeps a conversation on one Rasa server by its routing key
 * (a keyed hash of the id, never the id): the X-Conversation-Key header, or ?conversation_key= on socket.io's URL.
 *
 * Every text from the server or the person is put into the page with textContent: no HTML from a
 * message is ever parsed or executed. Links are only made for http(s), tel: and sms: addresses.
 *
 * In a crisis hand-off, clinic staff messages ({"type": "staff_message", "staff_name", "text"}) show
 * the writer's name and their own look; join / leave lines ({"type": "staff_presence", "event":
 * "joined" | "left" | "ended", ...}) are system lines; while staff are here the header says so and
 * the crisis card folds into a bar that opens on click. While the staff member types, socket.io's
 * `ipt_staff_typing` event ({"type": "staff_typing", "staff_name"}) shows "Sam from the clinic is
 * typing…" in a polite live region (said once, not on every notice) until 6 s pass without one or a
 * message arrives.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.IPTWidget) { return; }
  var cfg = script.dataset || {};
  var SERVER = (cfg.server || "http://localhost:5005").replace(/\/+$/, "");
  var STATIC = script.src.replace(/\/widget\/ipt-widget\.js(\?.*)?$/, "");
  var MAX_LENGTH = parseInt(cfg.maxLength || "1000", 10) || 1000;
  var TITLE = cfg.title || "IPT assistant";
  var LOCALE = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$/.test(cfg.locale || "") ? cfg.locale : null;
  var METADATA = LOCALE ? { locale: LOCALE } : null;
  var SESSION_URL = cfg.sessionUrl || STATIC.replace(/\/static$/, "") + "/chat/session";
  var RENEW_BEFORE = 30 * 86400;  // seconds: a token with less left is exchanged for a new one (same id)
  var PREFIX = "ipt-widget:" + SERVER + ":";
  var store = cfg.storage === "session" ? window.sessionStorage : window.localStorage;
  var MAX_TRANSCRIPT = 300;

  // ---- small helpers ---------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        if (key === "className") { node.className = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
      });
    }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function load(key, fallback) {
    try { var v = store.getItem(PREFIX + key); return v === null ? fallback : JSON.parse(v); } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { store.setItem(PREFIX + key, JSON.stringify(value)); } catch (e) { /* storage full or blocked */ }
  }
  function forget(key) { try { store.removeItem(PREFIX + key); } catch (e) { /* ignore */ } }

  function safeUrl(value, schemes) {
    if (typeof value !== "string") { return null; }
    try {
      var url = new URL(value, window.location.href);
      return schemes.indexOf(url.protocol) >= 0 ? url.href : null;
    } catch (e) { return null; }
  }
  function phoneLink(value, scheme) {
    // tel:988, sms:741741?body=HOME: digits and a few safe characters only
    if (typeof value !== "string") { return null; }
    var re = scheme === "tel" ? /^tel:\+?[0-9*#,;-]{2,20}$/ : /^sms:\+?[0-9-]{2,20}(\?body=[A-Za-z0-9 %]{1,40})?$/;
    return re.test(value) ? value : null;
  }

  function timeLabel(ts) {
    var d = new Date(ts);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // Text with http(s) addresses as links; everything else stays plain text.
  function appendText(parent, text) {
    var parts = String(text).split(/(https?:\/\/[^\s<>"']+)/g);
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        var href = safeUrl(part.replace(/[.,;:!?)]+$/, ""), ["http:", "https:"]);
        if (href) {
          var a = el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, part);
          parent.appendChild(a);
          return;
        }
      }
      parent.appendChild(document.createTextNode(part));
    });
  }

  // ---- state -----------------------------------------------------------------------------

  // {id, token, expires_at, key}: the conversation the web app issued to this device
  function asSession(s) {
    if (!s || typeof s !== "object") { return null; }
    var id = s.id || s.conversation_id;
    if (typeof id !== "string" || !/^[0-9a-f]{32,}$/.test(id) || typeof s.token !== "string") { return null; }
    return { id: id, token: s.token, expires_at: Number(s.expires_at) || 0, key: s.key || s.routing_key || "" };
  }
  var session = asSession(load("session", null));
  var oldSender = load("sender", null);  // an id this widget once made itself: no server accepts it now
  if (typeof oldSender === "string") { forget("transcript:" + oldSender); forget("sender"); }
  var sender = session ? session.id : null;
  var transcript = sender ? load("transcript:" + sender, []) : [];
  if (!Array.isArray(transcript)) { transcript = []; }
  var spare = null;         // a second session fetched ahead, so "Clear conversation" switches at once
  var asking = null;        // the session request under way
  var outbox = [];          // user messages not yet delivered: {text, entry}
  var socket = null;
  var socketReady = false;
  var restOnly = cfg.transport === "rest" || !window.WebSocket;
  var retryTimer = null;
  var retryDelay = 2000;
  var typingTimer = null;
  var staffTypingTimer = null;
  var STAFF_TYPING_SHOWN = 6000;  // ms after the last notice (the dashboard sends one every 3 s of typing)
  var lastSent = { text: null, at: 0 };
  var staffHere = null;     // while clinic staff have joined: {name: "Sam" | null}
  var NOTICE = "Automated assistant, not a therapist. In an emergency, call your local emergency number.";
  var NOTICE_STAFF = "You're talking with a person from the clinic. In an emergency, call your local emergency number.";

  // ---- the conversation id and its token ---------------------------------------------------

  function requestSession(token) {
    return fetch(SESSION_URL, {
      method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit",
      body: JSON.stringify(token ? { token: token } : {})
    }).then(function (res) {
      if (!res.ok) { throw new Error("HTTP " + res.status); }
      return res.json();
    }).then(function (data) {
      var s = asSession(data);
      if (!s) { throw new Error("no session"); }
      return s;
    });
  }

  function adopt(s) {
    if (sender && s.id !== sender) { forget("transcript:" + sender); }  // the old token was refused
    session = s; sender = s.id;
    save("session", s);
    persist();
  }

  // The current session, asking the web app for one (or a fresh token) when needed.
  function withSession() {
    if (session && session.expires_at - Date.now() / 1000 > RENEW_BEFORE) { return Promise.resolve(session); }
    if (!asking) {
      var before = session;
      asking = requestSession(before && before.token).then(function (s) {
        asking = null;
        if (session === before) { adopt(s); }
        return session;
      }, function (error) { asking = null; throw error; });
    }
    return asking;
  }

  function fetchSpare() {
    if (spare) { return; }
    requestSession(null).then(function (s) { spare = s; }, function () { /* asked again when needed */ });
  }

  // ---- the DOM ---------------------------------------------------------------------------

  var css = el("link", { rel: "stylesheet", href: STATIC + "/widget/ipt-widget.css" });
  document.head.appendChild(css);

  var container = cfg.container ? document.querySelector(cfg.container) : null;
  var root = el("div", { className: "ipt-w" + (container ? " ipt-w--inline" : " ipt-w--floating"), id: "ipt-widget" });
  var launcher = el("button", { type: "button", className: "ipt-w__launcher", "aria-expanded": "false",
    "aria-controls": "ipt-widget-panel" }, "Chat with the " + TITLE);
  var panel = el("section", { className: "ipt-w__panel", id: "ipt-widget-panel", "aria-label": "Chat with the " + TITLE });
  var header = el("div", { className: "ipt-w__header" });
  var heading = el("h2", { className: "ipt-w__title" }, TITLE);
  var status = el("p", { className: "ipt-w__status", role: "status" }, "Connecting…");
  var clearBtn = el("button", { type: "button", className: "ipt-w__clear" }, "Clear conversation");
  var closeBtn = el("button", { type: "button", className: "ipt-w__close", "aria-label": "Close chat" }, "×");
  var titleBox = el("div", { className: "ipt-w__titlebox" });
  titleBox.appendChild(heading); titleBox.appendChild(status);
  header.appendChild(titleBox); header.appendChild(clearBtn);
  if (!container) { header.appendChild(closeBtn); }
  var notice = el("p", { className: "ipt-w__notice" }, NOTICE);
  var crisisSlot = el("div", { className: "ipt-w__crisis-slot" });
  // A div, not a list: role "log" on an <ol> would leave its items outside any list (axe: listitem).
  var log = el("div", { className: "ipt-w__log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": "Conversation", tabindex: "0" });
  var typing = el("p", { className: "ipt-w__typing", hidden: "" });
  typing.appendChild(el("span", { className: "ipt-w__dots", "aria-hidden": "true" }, "● ● ●"));
  typing.appendChild(el("span", { className: "ipt-w__sr" }, "The assistant is typing"));
  // empty (and not shown) unless staff are typing; a live region exists before it speaks
  var staffTyping = el("p", { className: "ipt-w__staff-typing", "aria-live": "polite", "aria-atomic": "true" });
  var form = el("form", { className: "ipt-w__form" });
  var inputId = "ipt-widget-input";
  var label = el("label", { "for": inputId, className: "ipt-w__label" }, "Your message");
  var input = el("textarea", { id: inputId, className: "ipt-w__input", rows: "2", maxlength: String(MAX_LENGTH),
    "aria-describedby": "ipt-widget-counter", autocomplete: "off" });
  var counter = el("span", { id: "ipt-widget-counter", className: "ipt-w__counter" });
  var sendBtn = el("button", { type: "submit", className: "ipt-w__send" }, "Send");
  var limitNote = el("span", { className: "ipt-w__sr", "aria-live": "polite" });
  var row = el("div", { className: "ipt-w__row" });
  row.appendChild(input); row.appendChild(sendBtn);
  form.appendChild(label); form.appendChild(row); form.appendChild(counter); form.appendChild(limitNote);

  panel.appendChild(header); panel.appendChild(notice); panel.appendChild(crisisSlot);
  panel.appendChild(log); panel.appendChild(typing); panel.appendChild(staffTyping); panel.appendChild(form);
  if (!container) { root.appendChild(launcher); }
  root.appendChild(panel);
  (container || document.body).appendChild(root);

  function setOpen(open, focus) {
    if (container) { open = true; }
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.hidden = !!open;
    save("open", !!open);
    if (open && focus) { input.focus(); scrollDown(); }
    if (!open && focus) { launcher.focus(); }
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function updateCounter() {
    var n = input.value.length;
    counter.textContent = n + " / " + MAX_LENGTH;
    counter.className = "ipt-w__counter" + (n >= MAX_LENGTH ? " ipt-w__counter--full" : "");
    if (n >= MAX_LENGTH) {
      if (!limitNote.textContent) { limitNote.textContent = "You have reached the limit of " + MAX_LENGTH + " characters."; }
    } else if (limitNote.textContent) { limitNote.textContent = ""; }
  }

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = "ipt-w__status" + (kind ? " ipt-w__status--" + kind : "");
  }

  // ---- rendering -------------------------------------------------------------------------

  // "Sam from the clinic" (the staff member's display name; never sent with an e-mail address)
  function staffName(value) {
    if (typeof value !== "string") { return null; }
    var name = value.replace(/\s+/g, " ").trim().slice(0, 60);
    return name || null;
  }
  function staffLabel(name) { return name ? name + " from the clinic" : "Clinic team"; }
  function personLabel(name) { return name ? name + " from the clinic" : "Someone from the clinic"; }

  function messageItem(entry) {
    var item = el("div", { className: "ipt-w__msg ipt-w__msg--" + entry.from });
    if (entry.from === "staff") {
      var who = el("span", { className: "ipt-w__who" }, staffLabel(entry.staff));
      who.appendChild(el("span", { className: "ipt-w__sr" }, " said: "));
      item.appendChild(who);
    } else if (entry.from !== "system") {
      item.appendChild(el("span", { className: "ipt-w__sr" }, entry.from === "user" ? "You said: " : TITLE + " said: "));
    }
    return item;
  }

  function addTime(li, ts) {
    var t = el("time", { className: "ipt-w__time", datetime: new Date(ts).toISOString() }, timeLabel(ts));
    li.appendChild(t);
  }

  function renderCrisisCard(payload) {
    crisisSlot.textContent = "";
    var card = el("details", { className: "ipt-w__crisis", open: "" });
    card.appendChild(el("summary", { className: "ipt-w__crisis-title" }, "Crisis help: talk to someone now"));
    var body = el("div", { className: "ipt-w__crisis-body" });
    if (payload.handoff && typeof payload.handoff.message === "string") {
      body.appendChild(el("p", { className: "ipt-w__crisis-handoff" }, payload.handoff.message));
    }
    card.addEventListener("toggle", function () {
      if (card.open) { crisisSlot.classList.remove("ipt-w__crisis-slot--compact"); }
      else if (card.classList.contains("ipt-w__crisis--compact")) { crisisSlot.classList.add("ipt-w__crisis-slot--compact"); }
    });
    var list = el("ul", { className: "ipt-w__crisis-list" });
    (Array.isArray(payload.resources) ? payload.resources : []).forEach(function (r) {
      if (!r || typeof r !== "object") { return; }
      var item = el("li", { className: "ipt-w__resource" + (r.emergency ? " ipt-w__resource--emergency" : "") });
      item.appendChild(el("strong", null, r.name || "Crisis line"));
      if (r.hours) { item.appendChild(el("span", { className: "ipt-w__hours" }, " (" + r.hours + ")")); }
      var links = el("span", { className: "ipt-w__links" });
      var tel = phoneLink(r.tel, "tel");
      if (tel) { links.appendChild(el("a", { href: tel, className: "ipt-w__call" }, "Call " + (r.phone || tel.slice(4)))); }
      var sms = phoneLink(r.sms_link || (r.sms ? "sms:" + String(r.sms).replace(/\s/g, "") : null), "sms");
      if (sms) {
        links.appendChild(el("a", { href: sms, className: "ipt-w__text" },
          "Text " + (r.keyword ? r.keyword + " to " : "") + (r.sms || "")));
      }
      var web = safeUrl(r.url, ["https:"]);  // a line reached on the web (the international directory)
      if (web) {
        links.appendChild(el("a", { href: web, className: "ipt-w__web", target: "_blank", rel: "noopener" },
          web.replace(/^https:\/\/(www\.)?/, "").replace(/\/$/, "")));
      }
      if (!tel && !sms && !web && r.emergency && r.phone) { links.appendChild(el("span", null, "Call " + r.phone)); }
      item.appendChild(links);
      list.appendChild(item);
    });
    body.appendChild(list);
    card.appendChild(body);
    crisisSlot.appendChild(card);
  }

  function disableOldQuickReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".ipt-w__quick button"), function (b) { b.disabled = true; });
    Array.prototype.forEach.call(log.querySelectorAll(".ipt-w__quick"), function (g) { g.classList.add("ipt-w__quick--used"); });
  }

  // While staff are here the header names them and the crisis card folds into a bar (it opens on
  // click); when they leave, the header is the assistant's again.
  function setPresence(joined, name) {
    staffHere = joined ? { name: name } : null;
    heading.textContent = joined ? personLabel(name) + " is here" : TITLE;
    header.classList.toggle("ipt-w__header--staff", !!joined);
    notice.textContent = joined ? NOTICE_STAFF : NOTICE;
    var card = crisisSlot.querySelector(".ipt-w__crisis");
    if (!card) { return; }
    var said = card.querySelector(".ipt-w__crisis-handoff");
    if (said) {
      said.textContent = (joined ? personLabel(name) + " has joined this chat. " : "") +
        "You can call or text these lines any time.";
    }
    card.classList.add("ipt-w__crisis--compact");
    card.open = false;
    crisisSlot.classList.add("ipt-w__crisis-slot--compact");
  }

  function renderEntry(entry, isLatest) {
    var li = messageItem(entry);
    if (entry.kind === "presence") {
      li.appendChild(el("span", { className: "ipt-w__system" }, entry.text || ""));
      setPresence(entry.event === "joined", entry.staff);
    } else if (entry.kind === "crisis") {
      renderCrisisCard(entry.custom || {});
      crisisSlot.classList.remove("ipt-w__crisis-slot--compact");
      li.classList.add("ipt-w__msg--crisis");
      li.appendChild(el("span", { className: "ipt-w__bubble" },
        "Crisis help is shown at the top of this chat: you can call or text from there."));
    } else if (entry.kind === "image") {
      var src = safeUrl(entry.src, ["http:", "https:"]);
      if (!src) { return; }
      var fig = el("span", { className: "ipt-w__bubble ipt-w__bubble--image" });
      fig.appendChild(el("img", { src: src, alt: entry.alt || "Image from the assistant", loading: "lazy" }));
      li.appendChild(fig);
    } else {
      var bubble = el("span", { className: "ipt-w__bubble" });
      appendText(bubble, entry.text || "");
      li.appendChild(bubble);
      if (entry.pending) {
        li.classList.add("ipt-w__msg--pending");
        li.appendChild(el("span", { className: "ipt-w__pending" }, "Not sent yet: will retry"));
      }
      if (entry.buttons && entry.buttons.length) {
        var group = el("div", { className: "ipt-w__quick", role: "group", "aria-label": "Suggested replies" });
        entry.buttons.forEach(function (b) {
          var btn = el("button", { type: "button" }, b.title);
          btn.addEventListener("click", function () {
            if (btn.disabled) { return; }
            disableOldQuickReplies();
            sendMessage(b.payload, b.title);
            input.focus();
          });
          group.appendChild(btn);
        });
        if (!isLatest) { group.classList.add("ipt-w__quick--used"); Array.prototype.forEach.call(group.children, function (c) { c.disabled = true; }); }
        li.appendChild(group);
      }
    }
    addTime(li, entry.ts);
    entry.node = li;
    log.appendChild(li);
    scrollDown();
  }

  function persist() {
    var plain = transcript.slice(-MAX_TRANSCRIPT).map(function (e) {
      return { from: e.from, kind: e.kind, text: e.text, payload: e.payload, buttons: e.buttons, src: e.src,
        custom: e.custom, staff: e.staff, event: e.event, ts: e.ts, pending: e.pending || undefined };
    });
    if (sender) { save("transcript:" + sender, plain); }
  }

  function addEntry(entry) {
    entry.ts = entry.ts || Date.now();
    if (entry.from === "user") { disableOldQuickReplies(); }
    transcript.push(entry);
    renderEntry(entry, true);
    persist();
    return entry;
  }

  // A bot message from socket.io ({text, quick_replies, attachment, custom}) or REST
  // ({text, buttons, image, custom}) as transcript entries.
  function receive(msg) {
    if (!msg || typeof msg !== "object") { return; }
    stopTyping();
    stopStaffTyping();
    var custom = msg.custom;
    if (custom && typeof custom === "object") {
      if (custom.type === "crisis") { addEntry({ from: "bot", kind: "crisis", custom: custom }); }
      else if (custom.type === "data_deleted") {
        // "delete my data" is done on the server: nothing of it stays on this device either
        startFresh();
        if (typeof custom.text === "string") { addEntry({ from: "bot", kind: "text", text: custom.text }); }
      }
      else if (custom.type === "staff_message" && typeof custom.text === "string") {
        addEntry({ from: "staff", kind: "staff", text: custom.text, staff: staffName(custom.staff_name) });
      } else if (custom.type === "staff_presence" && typeof custom.text === "string" &&
                 ["joined", "left", "ended"].indexOf(custom.event) >= 0) {
        addEntry({ from: "system", kind: "presence", event: custom.event, text: custom.text,
          staff: staffName(custom.staff_name) });
      } else if (typeof custom.text === "string") { addEntry({ from: "bot", kind: "text", text: custom.text }); }
      return;
    }
    var image = msg.image || (msg.attachment && msg.attachment.type === "image" && msg.attachment.payload && msg.attachment.payload.src);
    if (typeof msg.text === "string" && msg.text.trim()) {
      var buttons = (msg.quick_replies || msg.buttons || []).filter(function (b) { return b && typeof b.title === "string"; })
        .map(function (b) { return { title: b.title, payload: typeof b.payload === "string" ? b.payload : b.title }; });
      addEntry({ from: "bot", kind: "text", text: msg.text, buttons: buttons });
    }
    if (typeof image === "string") { addEntry({ from: "bot", kind: "image", src: image, alt: msg.alt }); }
  }

  function startTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 20000);
  }
  function stopTyping() { typing.hidden = true; clearTimeout(typingTimer); }

  // The text changes only when it is new, so a screen reader says it once, not every 3 s.
  function staffTypingNotice(data) {
    var text = personLabel(staffName(data && data.staff_name)) + " is typing…";
    if (staffTyping.textContent !== text) { staffTyping.textContent = text; }
    clearTimeout(staffTypingTimer);
    staffTypingTimer = setTimeout(stopStaffTyping, STAFF_TYPING_SHOWN);
  }
  function stopStaffTyping() { staffTyping.textContent = ""; clearTimeout(staffTypingTimer); }

  // ---- sending ---------------------------------------------------------------------------

  function markSent(entry) {
    if (!entry.pending) { return; }
    entry.pending = false;
    if (entry.node) {
      entry.node.classList.remove("ipt-w__msg--pending");
      var p = entry.node.querySelector(".ipt-w__pending");
      if (p) { p.remove(); }
    }
    persist();
  }

  function deliver(item) {
    return withSession().then(function (s) { return deliverIn(s, item); });
  }

  function deliverIn(s, item) {
    if (socket && socketReady && !restOnly) {
      var data = { message: item.payload, session_id: s.id };  // the server uses the socket's own conversation
      if (METADATA) { data.metadata = METADATA; }
      socket.emit("user_uttered", data);
      markSent(item.entry);
      return Promise.resolve(true);
    }
    // the token names the conversation; X-Conversation-Key lets a proxy keep it on one Rasa server
    var body = { sender: s.id, message: item.payload };
    if (METADATA) { body.metadata = METADATA; }
    var headers = { "Content-Type": "application/json", "Authorization": "Bearer " + s.token };
    if (s.key) { headers["X-Conversation-Key"] = s.key; }
    return fetch(SERVER + "/webhooks/rest/webhook", {
      method: "POST", headers: headers, body: JSON.stringify(body)
    }).then(function (res) {
      if (res.status === 401 && session === s) { session.expires_at = 0; }  // ask for a valid token, then retry
      if (!res.ok) { throw new Error("HTTP " + res.status); }
      return res.json();
    }).then(function (messages) {
      markSent(item.entry);
      if (restOnly || !socketReady) { setStatus("Connected", "ok"); }
      (Array.isArray(messages) ? messages : []).forEach(receive);
      if (!messages || !messages.length) { stopTyping(); }
      return true;
    });
  }

  var flushing = false;
  function flush() {
    if (flushing || !outbox.length) { return; }
    flushing = true;
    var item = outbox[0];
    if (!staffHere) { startTyping(); }  // while staff are here the assistant is silent
    deliver(item).then(function () {
      outbox.shift();
      flushing = false;
      retryDelay = 2000;
      flush();
    }, function () {
      flushing = false;
      stopTyping();
      offline();
    });
  }

  function offline() {
    clearTimeout(retryTimer);
    var seconds = Math.round(retryDelay / 1000);
    setStatus("Can't reach the assistant. Retrying in " + seconds + " s…", "error");
    retryTimer = setTimeout(function () {
      retryDelay = Math.min(retryDelay * 2, 30000);
      if (outbox.length) { flush(); } else { ping(); }
    }, retryDelay);
  }

  function ping() {
    if (!restOnly && socket) { return; } // socket.io reconnects by itself
    fetch(SERVER + "/", { method: "GET" }).then(function (res) {
      if (!res.ok) { throw new Error("HTTP " + res.status); }
      retryDelay = 2000;
      setStatus("Connected", "ok");
      flush();
    }, offline);
  }

  function sendMessage(payload, shown) {
    payload = String(payload || "").slice(0, MAX_LENGTH);
    shown = shown === undefined ? payload : String(shown);
    if (!payload.trim()) { return false; }
    var now = Date.now();
    if (payload === lastSent.text && now - lastSent.at < 1500) { return false; } // double click or double Enter
    lastSent = { text: payload, at: now };
    var entry = addEntry({ from: "user", kind: "text", text: shown, payload: payload !== shown ? payload : undefined, pending: true });
    outbox.push({ payload: payload, entry: entry });
    flush();
    return true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sendBtn.getAttribute("aria-disabled") === "true") { return; }
    if (sendMessage(input.value)) {
      input.value = "";
      updateCounter();
      // a short lock against a second click that arrives before the page updates
      sendBtn.setAttribute("aria-disabled", "true");
      setTimeout(function () { sendBtn.removeAttribute("aria-disabled"); }, 400);
    }
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.dispatchEvent(new Event("submit", { cancelable: true })); }
    }
  });
  input.addEventListener("input", updateCounter);
  launcher.addEventListener("click", function () { setOpen(true, true); });
  closeBtn.addEventListener("click", function () { setOpen(false, true); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !container) { setOpen(false, true); }
  });
  clearBtn.addEventListener("click", function () {
    if (!window.confirm("Clear this conversation from this device and start a new one?")) { return; }
    startFresh();
    setStatus("New conversation started", "ok");
    input.focus();
  });

  // Forgets this device's transcript and conversation id, and starts a new conversation.
  function startFresh() {
    if (sender) { forget("transcript:" + sender); }
    session = null; sender = null; forget("session");
    transcript = []; outbox = [];
    if (spare) { adopt(spare); spare = null; }  // the new conversation's id, issued ahead
    log.textContent = ""; crisisSlot.textContent = "";
    crisisSlot.classList.remove("ipt-w__crisis-slot--compact");
    setPresence(false, null);
    withSession().then(fetchSpare, function () { /* asked again with the next message */ });
    if (socket) {
      // a new connection for the new conversation, so a proxy hashing on its key routes it anew
      socketReady = false;
      socket.io.opts.query = session && session.key ? { conversation_key: session.key } : {};
      if (socket.connected) { socket.disconnect().connect(); }
    }
  }

  // ---- socket.io -------------------------------------------------------------------------

  function connectSocket() {
    if (restOnly) { ping(); return; }
    if (!window.io) {
      var tag = el("script", { src: STATIC + "/vendor/socket.io.min.js" });
      tag.onload = connectSocket;
      tag.onerror = function () { restOnly = true; ping(); };
      document.head.appendChild(tag);
      return;
    }
    // query.conversation_key (a keyed hash of the id, never the id): the production proxy keeps a conversation on one
    // Rasa server by it (browsers cannot set headers on WebSocket connections)
    var options = { path: "/socket.io", query: session && session.key ? { conversation_key: session.key } : {},
      reconnectionDelay: 1000, reconnectionDelayMax: 10000 };
    if (cfg.token) { options.auth = { token: cfg.token }; }
    socket = window.io(SERVER, options);
    var refused = 0;
    function askForSession() {
      withSession().then(function (s) {
        if (socket.connected) { socket.emit("session_request", { session_id: s.id, token: s.token }); }
      }, function () { setStatus("Can't reach the assistant. Retrying…", "error"); setTimeout(askForSession, 5000); });
    }
    socket.on("connect", askForSession);
    socket.on("ipt_error", function (e) {
      if (!e || (e.status !== 401 && e.status !== 403)) { return; }
      socketReady = false;
      if (refused++ === 0 && session) { session.expires_at = 0; askForSession(); return; }  // a fresh token, once
      restOnly = true;  // the socket keeps refusing: messages go over REST, which says why
      ping();
    });
    socket.on("session_confirm", function () {
      socketReady = true;
      refused = 0;
      clearTimeout(retryTimer);
      retryDelay = 2000;
      setStatus("Connected", "ok");
      flush();
    });
    socket.on("bot_uttered", receive);
    socket.on("ipt_staff_typing", staffTypingNotice);
    socket.on("disconnect", function (reason) {
      socketReady = false;
      if (reason !== "io client disconnect") { setStatus("Connection lost. Reconnecting…", "error"); }
    });
    socket.on("connect_error", function () {
      socketReady = false;
      setStatus("Can't reach the assistant. Retrying…", "error");
      // the person's messages still go out over REST if only socket.io is blocked
      if (outbox.length) { flush(); }
    });
  }

  // ---- start -----------------------------------------------------------------------------

  transcript.forEach(function (entry, i) {
    var pending = entry.pending;
    renderEntry(entry, i === transcript.length - 1);
    if (pending) { outbox.push({ payload: entry.payload || entry.text, entry: entry }); }
  });
  updateCounter();
  var startOpen = container || cfg.open === "true" || load("open", false) === true;
  setOpen(!!startOpen, false);
  withSession().then(function () { fetchSpare(); connectSocket(); }, connectSocket);

  window.IPTWidget = {
    open: function () { setOpen(true, true); },
    close: function () { setOpen(false, true); },
    send: function (text) { return sendMessage(text); },
    senderId: function () { return sender; },
    transport: function () { return restOnly ? "rest" : (socketReady ? "socket.io" : "connecting"); }
  };
})();
