/* 1-on-1 chat client (visitor page and staff chat page), following docs/protocol.md.
   window.GemGesprekLive is a small reconnecting connection that the staff console reuses. */
(function () {
  "use strict";

  function Live(channels, onFrame, positions) {
    this.channels = channels;
    this.onFrame = onFrame;
    this.positions = positions || {};
    this.nextId = 1;
    this.pending = {};
    this.backoff = 500;
    this.ws = null;
    this.connect();
  }

  Live.prototype.connect = function () {
    var self = this;
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws");
    this.ws = ws;
    ws.onmessage = function (msg) {
      var frame;
      try { frame = JSON.parse(msg.data); } catch (e) { return; }
      if (frame.type === "welcome") {
        self.backoff = 500;
        self.channels.forEach(function (ch) { self.subscribe(ch); });
        return;
      }
      if (frame.type === "event") {
        var last = self.positions[frame.channel];
        if (last && last.epoch === frame.epoch && frame.offset <= last.offset) { return; }
        self.positions[frame.channel] = { offset: frame.offset, epoch: frame.epoch };
      }
      // With "since", subscribed.position is the last of the replayed events that follow it: taking it over
      // would skip them all. Only a channel without a known position starts there.
      if (frame.type === "subscribed" && frame.position && !self.positions[frame.channel]) {
        self.positions[frame.channel] = frame.position;
      }
      if ((frame.type === "ack" || frame.type === "error") && frame.id && self.pending[frame.id]) {
        var cb = self.pending[frame.id];
        delete self.pending[frame.id];
        cb(frame);
      }
      self.onFrame(frame);
    };
    ws.onclose = function (ev) {
      if (ev.code >= 4100 && ev.code < 4200) { self.onFrame({ type: "closed", code: ev.code }); return; }
      var wait = self.backoff + Math.floor(Math.random() * 300);
      self.backoff = Math.min(self.backoff * 2, 15000);
      setTimeout(function () { self.connect(); }, wait);
    };
  };

  Live.prototype.send = function (frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(frame)); return true; }
    return false;
  };

  Live.prototype.subscribe = function (channel) {
    var frame = { type: "subscribe", id: this.nextId++, channel: channel };
    var pos = this.positions[channel];
    if (pos && pos.epoch) { frame.since = pos; }
    this.send(frame);
  };

  Live.prototype.publish = function (channel, text, done) {
    var id = this.nextId++;
    var cmid = "g" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    this.pending[id] = done;
    if (!this.send({ type: "publish", id: id, channel: channel, client_msg_id: cmid, body: { text: text } })) {
      delete this.pending[id];
      done({ type: "error", reason: "Geen verbinding. Probeer het zo opnieuw." });
    }
  };

  window.GemGesprekLive = Live;

  function messageItem(frame) {
    var li = document.createElement("li");
    li.className = "gesprek-msg";
    li.id = "bericht-" + String(frame.offset);
    li.setAttribute("data-offset", String(frame.offset));
    if (frame.kind === "system") {
      li.className += " gesprek-msg--system";
      li.textContent = frame.data.text || "";
      return li;
    }
    if (frame.data.role) { li.className += " gesprek-msg--staff"; }
    var who = document.createElement("span");
    who.className = "gesprek-msg__who";
    who.textContent = frame.data.sender + (frame.data.role ? " (" + frame.data.role + ")" : "");
    var text = document.createElement("span");
    text.className = "gesprek-msg__text";
    text.textContent = frame.data.deleted ? "[verwijderd]" : frame.data.text;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(text);
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
    if (status === "ended") { return; }
    var seen = {};
    Array.prototype.forEach.call(log.querySelectorAll("[data-offset]"), function (li) {
      seen[li.getAttribute("data-offset")] = true;
    });
    var channels = [chatChannel];
    if (userChannel) { channels.push(userChannel); }
    // Continue exactly after what the page showed: nothing between rendering and subscribing is lost.
    var known = {};
    var lastOffset = parseInt(root.getAttribute("data-last-offset") || "0", 10);
    var lastEpoch = root.getAttribute("data-last-epoch") || "";
    if (lastOffset > 0 && lastEpoch) { known[chatChannel] = { offset: lastOffset, epoch: lastEpoch }; }

    function setField(name, text) {
      var el = liveBox && liveBox.querySelector('[data-field="' + name + '"]');
      if (el) { el.textContent = text; }
    }

    var live = new Live(channels, function (frame) {
      if (frame.type === "event" && frame.channel === chatChannel) {
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
              flag.textContent = "⚠ Crisissignaal: ";
              line.insertBefore(flag, line.firstChild);
            }
          } else {
            var box = document.getElementById("gesprek-crisis-now");
            if (box) { box.hidden = false; }
          }
        } else if (frame.kind === "chat") {
          var ev = frame.data.event;
          if (ev === "ended" || ev === "consent_requested" || ev === "assigned" || ev === "reoffered" || ev === "escalating") {
            setTimeout(function () { location.reload(); }, 400);
          }
        }
      } else if (frame.type === "notice" && frame.kind === "queue" && frame.channel === userChannel) {
        var d = frame.data || {};
        if (d.chat_id !== root.getAttribute("data-chat-id")) { return; }
        if (d.status === "active") { setTimeout(function () { location.reload(); }, 400); return; }
        if (typeof d.position === "number") { setField("position", String(d.position)); }
        if (d.estimated_wait_min === null || d.estimated_wait_min === undefined) {
          setField("estimate", "Er is nu niemand beschikbaar; we weten niet hoe lang het duurt.");
        } else {
          setField("estimate", "Verwachte wachttijd: ongeveer " + d.estimated_wait_min + (d.estimated_wait_min === 1 ? " minuut." : " minuten."));
        }
        if (typeof d.staff_on_shift === "number") { setField("staff", "Medewerkers in dienst: " + d.staff_on_shift + "."); }
      } else if (frame.type === "notice" && frame.kind === "chat" && frame.data && frame.data.chat_id === root.getAttribute("data-chat-id")) {
        setTimeout(function () { location.reload(); }, 400);
      } else if (frame.type === "reload") {
        location.reload();
      } else if (frame.type === "closed" && liveBox) {
        liveBox.textContent = "De verbinding is verbroken. Laad de pagina opnieuw.";
      }
    }, known);

    if (form) {
      form.hidden = false;
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var text = input.value.trim();
        if (!text) { return; }
        errorBox.hidden = true;
        live.publish(chatChannel, text, function (ans) {
          if (ans.type === "ack") {
            input.value = "";
            if (ans.notice) { errorBox.textContent = ans.notice; errorBox.hidden = false; }
          } else {
            errorBox.textContent = ans.reason || "Je bericht kon niet worden verstuurd.";
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
