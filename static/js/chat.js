/* GemChat: the group room page (#chat-room; data-* attributes, see templates/pages/rooms/room.html). The live
 * connection is GemLive from live.js (load it first, both with `defer`); this file only renders.
 *
 *   GemChat.room(element)   the group room page
 *   GemChat.linkify(text)   a DocumentFragment: text nodes, and <a> only for http(s) URLs
 *   GemChat.current         the connection the room page opened (GemLive.connect; conn.dropForTest() for tests)
 *
 * Positions are kept per channel in memory and in sessionStorage (GemLive's "remember"), so the visitor's own
 * channel recovers across page loads as well.
 */
(function () {
  "use strict";

  var _ = window.GemI18n.gettext;  // i18n.js: the visitor's language
  var fmt = window.GemI18n.format;
  var N_ = window.GemI18n.N_;
  var tr = window.GemI18n.translate;  // a Dutch text that arrives live (system line, notice), in the page's language
  var TYPING_SHOW_MS = 4000;
  var MAX_TEXT_CHARS = 4000;
  var ROLE_KEYS = {
    "Vrijwilliger": "volunteer",
    "Ervaringsdeskundige": "peer_expert",
    "Professional": "professional",
    "Redacteur": "editor",
    "Beheerder": "admin"
  };
  // The role labels live events carry (in Dutch), marked so that every page's scripts can show them translated.
  var ROLE_LABELS = [N_("Vrijwilliger"), N_("Ervaringsdeskundige"), N_("Professional"), N_("Redacteur"), N_("Beheerder")];
  var URL_RE = /\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]]/gi;

  // The Dutch role label (as the live events carry it) of a badge on the page, whatever language it shows.
  function roleOf(badge) {
    for (var i = 0; i < ROLE_LABELS.length; i++) {
      if (badge.classList.contains("badge--" + ROLE_KEYS[ROLE_LABELS[i]])) { return ROLE_LABELS[i]; }
    }
    return badge.textContent;
  }

  function linkify(text) {
    var frag = document.createDocumentFragment();
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      if (match.index > last) {
        frag.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      var a = document.createElement("a");
      a.href = match[0];
      a.rel = "nofollow ugc noopener noreferrer";
      a.textContent = match[0];
      frag.appendChild(a);
      last = match.index + match[0].length;
    }
    if (last < text.length) {
      frag.appendChild(document.createTextNode(text.slice(last)));
    }
    return frag;
  }

  // --- the group room page -------------------------------------------------------------------

  function room(root) {
    var channel = root.getAttribute("data-channel");
    var me = root.getAttribute("data-pseudonym") || "";
    var csrf = root.getAttribute("data-csrf") || "";
    var roomUrl = root.getAttribute("data-room-url");
    var historyUrl = root.getAttribute("data-history-url");
    var editWindowMs = parseInt(root.getAttribute("data-edit-window-s") || "300", 10) * 1000;
    var scroller = root.querySelector("[data-scroll]");
    var log = root.querySelector("[data-log]");
    var olderList = root.querySelector("[data-older-list]");
    var pendingList = root.querySelector("[data-pending]");
    var statusEl = root.querySelector("[data-status]");
    var typingEl = root.querySelector("[data-typing]");
    var noticeEl = root.querySelector("[data-notice]");
    var presenceEl = root.querySelector("[data-presence]");
    var composer = root.querySelector("[data-composer]");
    var note = root.querySelector("[data-publish-note]");
    var dialog = root.querySelector("[data-report-dialog]");
    var confirmationEl = root.querySelector("[data-confirmation]");
    var userChannel = root.getAttribute("data-user-channel") || "";
    var typingTimer = null;
    var lastFocus = null;

    function field(form, name) { return form.querySelector("[name='" + name + "']"); }

    function showNotice(text) {
      if (!text) { noticeEl.hidden = true; noticeEl.textContent = ""; return; }
      noticeEl.textContent = text;
      noticeEl.hidden = false;
    }

    function nearBottom() {
      return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    }

    function el(tag, cls, text) {
      var node = document.createElement(tag);
      if (cls) { node.className = cls; }
      if (text !== undefined) { node.textContent = text; }
      return node;
    }

    function hidden(text) { return el("span", "visually-hidden", text); }

    function csrfInput() {
      var input = el("input");
      input.type = "hidden";
      input.name = "csrf_token";
      input.value = csrf;
      return input;
    }

    // Live messages show the same clock as the server-rendered history (Europe/Amsterdam), whatever the
    // device's own time zone is.
    var clockFormat = new Intl.DateTimeFormat("nl-NL", {hour: "2-digit", minute: "2-digit", timeZone: "Europe/Amsterdam"});

    function clock(ts) {
      return clockFormat.format(new Date(ts));
    }

    function ownActions(offset, text, label) {
      var frag = document.createDocumentFragment();
      var details = el("details", "msg__edit");
      var summary = el("summary", null, _("Bewerken"));
      summary.appendChild(hidden(" " + fmt(_("bericht van {time}"), {time: label})));
      details.appendChild(summary);
      var form = el("form");
      form.method = "post";
      form.action = roomUrl + "berichten/" + offset + "/bewerken";
      form.setAttribute("data-ajax", "");
      form.appendChild(csrfInput());
      var lab = el("label", null, _("Nieuwe tekst"));
      lab.htmlFor = "bewerk-" + offset;
      var area = el("textarea");
      area.id = "bewerk-" + offset;
      area.name = "text";
      area.maxLength = MAX_TEXT_CHARS;
      area.rows = 2;
      area.required = true;
      area.value = text;
      var save = el("button", "msg__button", _("Opslaan"));
      save.type = "submit";
      form.appendChild(lab);
      form.appendChild(area);
      form.appendChild(save);
      details.appendChild(form);
      frag.appendChild(details);
      var del = el("form", "msg__delete");
      del.method = "post";
      del.action = roomUrl + "berichten/" + offset + "/verwijderen";
      del.setAttribute("data-ajax", "");
      del.setAttribute("data-confirm", _("Weet je zeker dat je dit bericht wilt verwijderen?"));
      del.appendChild(csrfInput());
      var button = el("button", "msg__button", _("Verwijderen"));
      button.type = "submit";
      button.appendChild(hidden(" " + fmt(_("bericht van {time}"), {time: label})));
      del.appendChild(button);
      frag.appendChild(del);
      return frag;
    }

    function buildMessage(frame) {
      var d = frame.data || {};
      var li = el("li", "msg");
      li.id = "bericht-" + frame.offset;
      li.setAttribute("data-offset", String(frame.offset));
      if (frame.kind === "system") {
        li.className = "msg msg--system";
        li.appendChild(el("p", "msg__body", tr(String(d.text || ""))));
        return li;
      }
      var own = me !== "" && d.sender === me;
      var roleKey = d.role ? ROLE_KEYS[d.role] || "" : "";
      if (own) { li.className += " msg--own"; }
      if (d.role) { li.className += " msg--staff"; }
      var meta = el("p", "msg__meta");
      meta.appendChild(el("span", "msg__author", String(d.sender || "")));
      if (d.role) {
        var badge = el("span", "badge" + (roleKey ? " badge--" + roleKey : ""), _(String(d.role)));
        badge.title = _("Geverifieerde medewerker");
        meta.appendChild(badge);
      }
      var time = el("time", null, clock(frame.ts));
      time.dateTime = new Date(frame.ts).toISOString();
      meta.appendChild(time);
      if (d.edited && !d.deleted) { meta.appendChild(el("span", "msg__edited", _("(bewerkt)"))); }
      li.appendChild(meta);
      if (d.deleted) {
        li.className += " msg--deleted";
        li.appendChild(el("p", "msg__body msg__body--deleted", _("Dit bericht is verwijderd.")));
        return li;
      }
      var body = el("p", "msg__body");
      body.appendChild(linkify(String(d.text || "")));
      li.appendChild(body);
      var actions = el("div", "msg__actions");
      var label = clock(frame.ts);
      if (own && Date.now() < frame.ts + editWindowMs) {
        li.setAttribute("data-editable-until", String(frame.ts + editWindowMs));
        actions.appendChild(ownActions(frame.offset, String(d.text || ""), label));
      }
      if (!own) {
        var report = el("a", "msg__report", _("Melden"));
        report.href = roomUrl + "berichten/" + frame.offset + "/melden";
        report.setAttribute("data-report", "");
        report.appendChild(hidden(" " + fmt(_("bericht van {name} om {time}"), {name: d.sender, time: label})));
        actions.appendChild(report);
      }
      li.appendChild(actions);
      expireLater(li);
      return li;
    }

    function expireLater(li) {
      var until = parseInt(li.getAttribute("data-editable-until") || "0", 10);
      if (!until) { return; }
      setTimeout(function () {
        var nodes = li.querySelectorAll(".msg__edit, .msg__delete");
        Array.prototype.forEach.call(nodes, function (n) { n.parentNode.removeChild(n); });
      }, Math.max(0, until - Date.now()));
    }

    function setOpen(isOpen) {
      var state = root.querySelector("[data-open-state]");
      if (state) { state.textContent = isOpen ? _("Nu open") : _("Nu gesloten"); }
      if (root.getAttribute("data-can-host") === "true") { return; }  // staff: the page's host form rules
      if (composer) { composer.hidden = !isOpen; }
      if (note) { note.hidden = isOpen; }
    }

    // The visitor's own channel (user:<account_id>): moderation notices about them and outcomes of their reports.
    function onPersonal(frame) {
      var d = frame.data || {};
      if (frame.kind !== "notification") { return; }
      if (d.type === "report_outcome" && confirmationEl) { confirmationEl.textContent = tr(String(d.title || "")); return; }
      if (d.type !== "moderation") { return; }
      if (d.decision === "mute" && d.text) {
        showNotice(tr(String(d.text)));
        if (composer) { composer.hidden = true; }
        if (note) { note.textContent = tr(String(d.text)); note.hidden = false; }
        return;
      }
      showNotice(tr(String(d.title || "")) + (d.reason ? " " + fmt(_("Reden van de moderator: {reason}"), {reason: tr(String(d.reason))}) : ""));
    }

    function onEvent(frame) {
      if (userChannel && frame.channel === userChannel) { onPersonal(frame); return; }
      var d = frame.data || {};
      var stick = nearBottom();
      if (frame.kind === "message" || frame.kind === "system") {
        if (document.getElementById("bericht-" + frame.offset)) { return; }
        var empty = root.querySelector("[data-empty]");
        if (empty) { empty.parentNode.removeChild(empty); }
        log.appendChild(buildMessage(frame));
        if (frame.kind === "system" && typeof d.room_open === "boolean") { setOpen(d.room_open); }
      } else if (frame.kind === "edit" || frame.kind === "delete") {
        var target = document.getElementById("bericht-" + d.offset);
        if (!target) { return; }
        var old = {offset: d.offset, kind: "message", ts: 0, data: {}};
        var author = target.querySelector(".msg__author");
        var timeEl = target.querySelector("time");
        var badge = target.querySelector(".badge");
        old.ts = timeEl ? Date.parse(timeEl.getAttribute("datetime")) : Date.now();
        var body = target.querySelector(".msg__body");
        // An edit with "sender" renames the author (an erased account kept its posts: "verwijderd account").
        var renamed = typeof d.sender === "string";
        old.data = {
          sender: renamed ? d.sender : (author ? author.textContent : ""),
          role: renamed ? null : (badge ? roleOf(badge) : null),
          text: frame.kind === "edit" ? String(typeof d.text === "string" ? d.text : (body ? body.textContent : "")) : "",
          edited: frame.kind === "edit" && !renamed,
          deleted: frame.kind === "delete"
        };
        target.parentNode.replaceChild(buildMessage(old), target);
      }
      if (stick) { scroller.scrollTop = scroller.scrollHeight; }
    }

    function pendingItem(clientMsgId, text) {
      var li = el("li", "msg msg--own chat-pending__item");
      li.setAttribute("data-client-msg-id", clientMsgId);
      li.appendChild(el("p", "msg__body", text));
      li.appendChild(el("p", "msg__meta chat-pending__state", _("Wordt verstuurd…")));
      pendingList.appendChild(li);
      return li;
    }

    function findPending(clientMsgId) {
      return pendingList.querySelector("[data-client-msg-id='" + clientMsgId + "']");
    }

    function fetchHistory(url) {
      return fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (r) {
        if (!r.ok) { throw new Error("history " + r.status); }
        return r.text();
      }).then(function (html) {
        return new DOMParser().parseFromString(html, "text/html").querySelector("[data-history]");
      });
    }

    function setOlderLink(olderThan) {
      var link = root.querySelector("[data-older]");
      if (!olderThan) {
        if (link) { link.parentNode.parentNode.removeChild(link.parentNode); }
        return;
      }
      if (!link) {
        var p = el("p", "chat-older-link");
        link = el("a", null, _("Oudere berichten"));
        link.setAttribute("data-older", "");
        p.appendChild(link);
        scroller.insertBefore(p, scroller.firstChild);
      }
      link.href = roomUrl + "?voor=" + olderThan;
    }

    function adopt(list) {
      var nodes = [];
      Array.prototype.forEach.call(list.children, function (li) {
        if (!document.getElementById(li.id)) { nodes.push(document.importNode(li, true)); }
      });
      nodes.forEach(expireLater);
      return nodes;
    }

    function onReload(frame) {
      fetchHistory(historyUrl).then(function (list) {
        if (!list) { return; }
        olderList.replaceChildren();
        log.replaceChildren();
        adopt(list).forEach(function (n) { olderList.appendChild(n); });
        setOlderLink(list.getAttribute("data-older-than"));
        scroller.scrollTop = scroller.scrollHeight;
      }).catch(function () {
        showNotice(_("We konden de berichten niet opnieuw laden. Vernieuw de pagina."));
      });
    }

    function onStatus(state, text) {
      root.setAttribute("data-state", state);
      statusEl.textContent = text;
    }

    Array.prototype.forEach.call(log.querySelectorAll("[data-editable-until]"), expireLater);
    scroller.scrollTop = scroller.scrollHeight;

    // Older messages: a plain link that also works without JavaScript.
    root.addEventListener("click", function (ev) {
      var older = ev.target.closest("[data-older]");
      if (older && root.getAttribute("data-live") === "true") {
        ev.preventDefault();
        var before = new URL(older.href, window.location.href).searchParams.get("voor");
        var height = scroller.scrollHeight;
        fetchHistory(historyUrl + "?voor=" + encodeURIComponent(before)).then(function (list) {
          if (!list) { return; }
          var first = olderList.firstChild;
          adopt(list).forEach(function (n) { olderList.insertBefore(n, first); });
          setOlderLink(list.getAttribute("data-older-than"));
          scroller.scrollTop += scroller.scrollHeight - height;
        }).catch(function () { window.location.href = older.href; });
        return;
      }
      var report = ev.target.closest("[data-report]");
      if (report && dialog && typeof dialog.showModal === "function") {
        ev.preventDefault();
        lastFocus = report;
        var form = dialog.querySelector("[data-report-form]");
        form.action = report.href;
        dialog.querySelector("[data-report-result]").textContent = "";
        dialog.showModal();
        field(form, "reason").focus();
        return;
      }
      if (ev.target.closest("[data-close]") && dialog) {
        dialog.close();
      }
    });
    if (dialog) {
      dialog.addEventListener("close", function () { if (lastFocus) { lastFocus.focus(); } });
    }

    // Edit, delete and report forms go over fetch; the live events update every screen.
    root.addEventListener("submit", function (ev) {
      var form = ev.target;
      var isReport = form.hasAttribute("data-report-form");
      if (!form.hasAttribute("data-ajax") && !isReport) { return; }
      ev.preventDefault();
      var ask = form.getAttribute("data-confirm");
      if (ask && !window.confirm(ask)) { return; }
      var submit = form.querySelector("[type='submit']");
      if (isReport && submit) {
        if (submit.disabled) { return; }  // one report per click, not one per impatient double click
        submit.disabled = true;
      }
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRF-Token": csrf},
        body: new URLSearchParams(new FormData(form))
      }).then(function (r) { return r.json().catch(function () { return {ok: false}; }); }).then(function (res) {
        var text = res.ok ? res.message : (res.error || _("Dat lukte niet. Probeer het opnieuw."));
        if (isReport) {
          if (submit) { submit.disabled = false; }
          if (!res.ok) { dialog.querySelector("[data-report-result]").textContent = text; return; }
          // Done: close the dialog (focus goes back to the message's link) and confirm outside it.
          field(form, "reason").value = "";
          dialog.close();
          if (confirmationEl) { confirmationEl.textContent = text || _("Bedankt, je melding is verstuurd."); }
          return;
        }
        if (!res.ok) { showNotice(text); }
      }).catch(function () {
        if (isReport && submit) { submit.disabled = false; }
        var offline = _("Dat lukte niet: geen verbinding. Probeer het opnieuw.");
        if (isReport) { dialog.querySelector("[data-report-result]").textContent = offline; return; }
        showNotice(offline);
      });
    });

    if (root.getAttribute("data-live") !== "true" || !window.GemLive) { return null; }

    var since = null;
    var epoch = root.getAttribute("data-epoch");
    if (epoch) { since = {offset: parseInt(root.getAttribute("data-last-offset") || "0", 10), epoch: epoch}; }
    var channels = [{name: channel, since: since}];
    if (userChannel) { channels.push({name: userChannel}); }
    var conn = window.GemLive.connect({
      channels: channels,
      remember: true,
      onEvent: onEvent,
      onReload: onReload,
      onStatus: onStatus,
      onSubscribed: function (frame) {
        // The room's count only: the account's own channel answers with a presence of its own.
        if (frame.channel === channel && frame.presence && presenceEl) {
          presenceEl.textContent = String(frame.presence.count);
        }
      },
      onPresence: function (frame) {
        if (frame.channel === channel && presenceEl) { presenceEl.textContent = String(frame.count); }
      },
      onTyping: function (frame) {
        if (!typingEl || frame.pseudonym === me) { return; }
        typingEl.textContent = fmt(_("{name} typt…"), {name: frame.pseudonym});
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingEl.textContent = ""; }, TYPING_SHOW_MS);
      },
      onAck: function (frame, p) {
        var item = p ? findPending(p.clientMsgId) : null;
        if (frame.held) {
          if (item) { item.querySelector(".chat-pending__state").textContent = _("Je bericht wacht op een moderator."); }
          showNotice(_("Je bericht wacht op een moderator voordat het verschijnt.") + (frame.notice ? " " + frame.notice : ""));
          return;
        }
        if (item) { item.parentNode.removeChild(item); }
        if (frame.notice) { showNotice(frame.notice); }
      },
      onError: function (frame, p) {
        if (p) {
          var item = findPending(p.clientMsgId);
          if (item) { item.parentNode.removeChild(item); }
          var box = composer ? field(composer, "text") : null;
          if (box && !box.value) { box.value = p.text; updateCounter(); }
        }
        if (frame.code === 4202 && !p) {
          onStatus("stopped", _("Je hebt geen toegang (meer) tot deze ruimte."));
        }
        showNotice(frame.reason || _("Dat lukte niet. Probeer het opnieuw."));
      }
    });

    var counter = root.querySelector("[data-counter]");
    function updateCounter() {
      if (!composer || !counter) { return; }
      var n = field(composer, "text").value.length;
      counter.textContent = fmt(_("{n} van {max} tekens"), {n: n, max: MAX_TEXT_CHARS});
    }

    if (composer) {
      var box = field(composer, "text");
      composer.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var text = box.value.trim();
        if (!text) { return; }
        if (text.length > MAX_TEXT_CHARS) {
          showNotice(fmt(_("Je bericht is te lang: hoogstens {max} tekens."), {max: MAX_TEXT_CHARS}));
          return;
        }
        showNotice("");
        pendingItem(conn.publish(channel, text), text);
        box.value = "";
        updateCounter();
        scroller.scrollTop = scroller.scrollHeight;
      });
      box.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
          ev.preventDefault();
          if (composer.requestSubmit) { composer.requestSubmit(); } else { composer.dispatchEvent(new Event("submit", {cancelable: true})); }
        }
      });
      box.addEventListener("input", function () {
        updateCounter();
        if (box.value) { conn.typing(channel); }
      });
    }
    return conn;
  }

  var GemChat = {room: room, linkify: linkify, current: null};
  window.GemChat = GemChat;

  function start() {
    var root = document.getElementById("chat-room");
    if (root) { GemChat.current = room(root); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
