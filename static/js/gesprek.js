/* 1-on-1 chat page (the visitor's page and the staff member's chat page), following docs/protocol.md. The live
   connection is GemLive from live.js (load it first); this file renders the lines and reloads the page when the
   chat changes state (accepted, escalated, ended, …): the server renders each state. */
(function () {
  "use strict";

  var _ = window.GemI18n.gettext;  // i18n.js: the visitor's language
  var fmt = window.GemI18n.format;

  var RELOAD_DELAY_MS = 400;
  var RELOADED_KEY = "gesprek:herladen:";

  function messageItem(frame) {
    var li = document.createElement("li");
    li.className = "gesprek-msg";
    li.id = "bericht-" + String(frame.offset);
    li.setAttribute("data-offset", String(frame.offset));
    if (frame.kind === "system") {
      li.className += " gesprek-msg--system";
      li.textContent = window.GemI18n.translate(frame.data.text || "");  // stored Dutch, in the page's language
      return li;
    }
    if (frame.data.role) { li.className += " gesprek-msg--staff"; }
    var who = document.createElement("span");
    who.className = "gesprek-msg__who";
    who.textContent = frame.data.sender + (frame.data.role ? " (" + _(frame.data.role) + ")" : "");
    var text = document.createElement("span");
    text.className = "gesprek-msg__text";
    text.textContent = frame.data.deleted ? _("[verwijderd]") : frame.data.text;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(text);
    return li;
  }

  // A suggested tool (chat event "tool_card"): a copy of the page's card template (the server's words, in the
  // visitor's language) with the card's parts filled in. Only a link to a market entry of this site is followed.
  var CARD_URL = /^\/f\/[a-z0-9-]+\/markt\/[a-z0-9-]+$/;

  function cardItem(frame) {
    var template = document.getElementById("gesprek-card-template");
    var d = frame.data;
    if (!template || !CARD_URL.test(d.url || "")) { return null; }
    var li = template.content.firstElementChild.cloneNode(true);
    li.id = "bericht-" + String(frame.offset);
    li.setAttribute("data-offset", String(frame.offset));
    function fill(part, text) {
      var el = li.querySelector('[data-card="' + part + '"]');
      if (el) { el.textContent = text || ""; }
    }
    // The badge and the kind arrive in Dutch, as the server stores them; shown in the page's language.
    var say = window.GemI18n ? window.GemI18n.gettext : String;
    fill("who", d.staff + (d.role ? " (" + say(d.role) + ")" : ""));
    fill("kind", d.kind_label ? say(d.kind_label) : "");
    fill("title", d.title);
    fill("summary", d.summary);
    li.querySelector('[data-card="link"]').setAttribute("href", d.url);
    return li;
  }

  function init() {
    var root = document.getElementById("gesprek");
    if (!root) { return; }
    var chatChannel = root.getAttribute("data-chat-channel");
    var userChannel = root.getAttribute("data-user-channel");
    var status = root.getAttribute("data-status");
    var log = document.getElementById("gesprek-log");
    var liveBox = document.getElementById("gesprek-live");
    var form = document.getElementById("gesprek-compose");
    var input = document.getElementById("gesprek-text");
    var errorBox = document.getElementById("gesprek-error");
    var canned = document.querySelector("[data-canned]");
    if (status === "ended" || !window.GemLive) { return; }
    var seen = {};
    Array.prototype.forEach.call(log.querySelectorAll("[data-offset]"), function (li) {
      seen[li.getAttribute("data-offset")] = true;
    });
    // Continue exactly after what the page showed: what was stored between rendering and subscribing is replayed.
    var lastOffset = parseInt(root.getAttribute("data-last-offset") || "0", 10);
    var lastEpoch = root.getAttribute("data-last-epoch") || "";
    var since = lastOffset > 0 && lastEpoch ? { offset: lastOffset, epoch: lastEpoch } : null;
    var channels = [{ name: chatChannel, since: since }];
    if (userChannel) { channels.push(userChannel); }

    function setField(name, text) {
      var el = liveBox && liveBox.querySelector('[data-field="' + name + '"]');
      if (el) { el.textContent = text; }
    }

    // Reload to show the chat's new state. A page rendered after the event at `offset` already shows that state,
    // so an older chat event that is replayed again (a history that stopped short of the channel's end) must not
    // reload once more: that would be a loop.
    function reloadFor(offset) {
      var key = RELOADED_KEY + root.getAttribute("data-chat-id");
      if (typeof offset === "number") {
        try {
          if (offset <= parseInt(window.sessionStorage.getItem(key) || "0", 10)) { return; }
          window.sessionStorage.setItem(key, String(offset));
        } catch (e) { /* without storage: reload as asked */ }
      }
      setTimeout(function () { location.reload(); }, RELOAD_DELAY_MS);
    }

    function onChatEvent(frame) {
      if (frame.kind === "message" || frame.kind === "system") {
        if (!seen[String(frame.offset)]) {
          seen[String(frame.offset)] = true;
          log.appendChild(messageItem(frame));
          log.scrollTop = log.scrollHeight;
        }
      } else if (frame.kind === "chat" && frame.data && frame.data.event === "crisis") {
        // A visitor's line with a crisis signal: marked for staff; the visitor sees the crisis lines at once.
        if (root.getAttribute("data-role") === "staff") {
          var line = log.querySelector('[data-offset="' + String(frame.data.offset) + '"]');
          if (line && !line.classList.contains("gesprek-msg--crisis")) {
            line.classList.add("gesprek-msg--crisis");
            var flag = document.createElement("strong");
            flag.className = "gesprek-msg__flag";
            flag.textContent = "⚠ " + _("Crisissignaal:") + " ";
            line.insertBefore(flag, line.firstChild);
          }
        } else {
          var box = document.getElementById("gesprek-crisis-now");
          if (box) { box.hidden = false; }
        }
      } else if (frame.kind === "chat" && frame.data && frame.data.event === "tool_card") {
        var card = seen[String(frame.offset)] ? null : cardItem(frame);
        if (card) {
          seen[String(frame.offset)] = true;
          log.appendChild(card);
          log.scrollTop = log.scrollHeight;
        }
      } else if (frame.kind === "chat" && frame.data) {
        var ev = frame.data.event;
        if (ev === "ended" || ev === "consent_requested" || ev === "assigned" || ev === "reoffered" || ev === "escalating") {
          reloadFor(frame.offset);
        }
      }
    }

    function onNotice(frame) {
      var d = frame.data || {};
      if (frame.kind === "queue" && frame.channel === userChannel) {
        if (d.chat_id !== root.getAttribute("data-chat-id")) { return; }
        if (d.status === "active") { reloadFor(null); return; }
        if (typeof d.position === "number") { setField("position", String(d.position)); }
        if (d.estimated_wait_min === null || d.estimated_wait_min === undefined) {
          setField("estimate", _("Er is nu niemand beschikbaar; we weten niet hoe lang het duurt."));
        } else {
          setField("estimate", fmt(window.GemI18n.ngettext("Verwachte wachttijd: ongeveer {n} minuut.",
            "Verwachte wachttijd: ongeveer {n} minuten.", d.estimated_wait_min), {n: d.estimated_wait_min}));
        }
        if (typeof d.staff_on_shift === "number") {
          setField("staff", fmt(_("Medewerkers in dienst: {n}."), {n: d.staff_on_shift}));
        }
      } else if (frame.kind === "chat" && d.chat_id === root.getAttribute("data-chat-id")) {
        reloadFor(null);
      }
    }

    var answers = {};  // clientMsgId -> function (ack or error frame)
    var live = window.GemLive.connect({
      channels: channels,
      onEvent: function (frame) { if (frame.channel === chatChannel) { onChatEvent(frame); } },
      onNotice: onNotice,
      onReload: function (frame) { reloadFor(frame.position ? frame.position.offset : null); },
      onAck: function (frame, p) { answer(p, frame); },
      onError: function (frame, p) { answer(p, frame); },
      onStatus: function (state) {
        if (state !== "stopped" || !liveBox) { return; }
        liveBox.textContent = _("De verbinding is verbroken. Laad de pagina opnieuw.");
      }
    });

    function answer(p, frame) {
      var done = p ? answers[p.clientMsgId] : null;
      if (!done) { return; }
      delete answers[p.clientMsgId];
      done(frame);
    }

    function publish(text, done) {
      if (!live.connected()) {
        done({ type: "error", reason: _("Geen verbinding. Probeer het zo opnieuw.") });
        return;
      }
      answers[live.publish(chatChannel, text)] = done;
    }

    if (form) {
      form.hidden = false;
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var text = input.value.trim();
        if (!text) { return; }
        errorBox.hidden = true;
        publish(text, function (ans) {
          if (ans.type === "ack") {
            input.value = "";
            if (ans.notice) { errorBox.textContent = ans.notice; errorBox.hidden = false; }
          } else {
            errorBox.textContent = ans.reason || _("Je bericht kon niet worden verstuurd.");
            errorBox.hidden = false;
          }
          input.focus();
        });
      });
      input.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
      });
    }
    if (canned && input) {
      canned.addEventListener("change", function () {
        if (canned.value) { input.value = (input.value ? input.value + " " : "") + canned.value; canned.value = ""; input.focus(); }
      });
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
