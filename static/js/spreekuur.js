/* E-spreekuur: the live Q&A stream for visitors and the live question queue for moderators.
 * Follows docs/protocol.md: one WebSocket to /ws (the session cookie authenticates), subscribe with
 * "since" = the last {offset, epoch} seen, reconnect with back-off and jitter, ignore repeats.
 * Visitors without a session follow the stored events over HTTP (stroom.json) instead.
 * Without JavaScript the pages still work: they show the start time and the Q&A as rendered. */
(function () {
  "use strict";

  var RECONNECT_MIN_MS = 1000;
  var RECONNECT_MAX_MS = 15000;
  var POLL_MS = 4000;

  /* A small protocol v1 client: handlers get (channel, event frame). */
  function Live(positions, onEvent, onState) {
    this.positions = positions; // {channel: {offset, epoch}}
    this.onEvent = onEvent;
    this.onState = onState || function () {};
    this.attempt = 0;
    this.stopped = false;
    this.nextId = 1;
    this.connect();
  }

  Live.prototype.connect = function () {
    var self = this;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    var socket;
    try {
      socket = new WebSocket(url);
    } catch (err) {
      self.retry();
      return;
    }
    self.socket = socket;
    socket.onmessage = function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      self.handle(frame);
    };
    socket.onclose = function (event) {
      self.onState("closed");
      if (self.stopped) return;
      if (event.code >= 4100 && event.code < 4200) {
        self.onState("stopped");
        return;
      }
      self.retry();
    };
  };

  Live.prototype.retry = function () {
    var self = this;
    var base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * Math.pow(2, self.attempt));
    self.attempt += 1;
    window.setTimeout(function () { self.connect(); }, base / 2 + Math.random() * base / 2);
  };

  Live.prototype.send = function (frame) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(frame));
  };

  Live.prototype.handle = function (frame) {
    var self = this;
    if (frame.type === "welcome") {
      self.attempt = 0;
      self.onState("open");
      Object.keys(self.positions).forEach(function (channel) {
        var pos = self.positions[channel];
        var sub = { type: "subscribe", id: self.nextId++, channel: channel };
        if (pos && pos.epoch) sub.since = { offset: pos.offset, epoch: pos.epoch };
        self.send(sub);
      });
    } else if (frame.type === "subscribed") {
      var known = self.positions[frame.channel];
      if (!known || !known.epoch) self.positions[frame.channel] = frame.position;
    } else if (frame.type === "event") {
      var last = self.positions[frame.channel];
      if (last && last.epoch === frame.epoch && frame.offset <= last.offset) return;
      self.positions[frame.channel] = { offset: frame.offset, epoch: frame.epoch };
      self.onEvent(frame.channel, frame);
    } else if (frame.type === "reload") {
      self.onState("reload", frame);
    } else if (frame.type === "error" && frame.code === 4202) {
      // Refused (for a spreekuur: no free seat); do not ask again on the next reconnect.
      if (frame.channel) delete self.positions[frame.channel];
      self.onState("forbidden", frame);
    }
  };

  /* Subscribe a channel afresh (the server decides again, e.g. takes a seat once a spreekuur is live). */
  Live.prototype.rejoin = function (channel) {
    var pos = this.positions[channel];
    this.send({ type: "unsubscribe", id: this.nextId++, channel: channel });
    var sub = { type: "subscribe", id: this.nextId++, channel: channel };
    if (pos && pos.epoch) sub.since = { offset: pos.offset, epoch: pos.epoch };
    this.send(sub);
  };

  /* Following stored events over HTTP, for visitors without a session. */
  function Poller(url, position, onEvent) {
    var last = position;
    function tick() {
      var request = new XMLHttpRequest();
      request.open("GET", url + "?na=" + encodeURIComponent(last.offset));
      request.onload = function () {
        if (request.status === 200) {
          try {
            var body = JSON.parse(request.responseText);
            body.events.forEach(function (frame) {
              if (frame.offset > last.offset) {
                last = { offset: frame.offset, epoch: frame.epoch };
                onEvent(frame.channel, frame);
              }
            });
          } catch (err) { /* the next tick tries again */ }
        }
        window.setTimeout(tick, POLL_MS);
      };
      request.onerror = function () { window.setTimeout(tick, POLL_MS * 2); };
      request.send();
    }
    window.setTimeout(tick, POLL_MS);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* --- the visitor's page ----------------------------------------------------------------------------- */

  function visitorPage(root) {
    var stream = root.querySelector("#sq-stream");
    var empty = root.querySelector("[data-empty]");
    var statusLabel = root.querySelector("[data-status-label]");
    var waiting = root.querySelector("[data-waiting]");
    var countdown = root.querySelector("[data-countdown]");
    var connection = root.querySelector("[data-connection]");
    var channel = root.getAttribute("data-channel");
    var fullRegion = root.querySelector("[data-full]");
    var askForm = root.querySelector("[data-ask-form]");
    var live = null;
    var labels = { waiting: "Binnenkort", live: "Nu live", ended: "Afgelopen", cancelled: "Gaat niet door" };

    function setPhase(phase, label) {
      root.setAttribute("data-phase", phase);
      statusLabel.textContent = label || labels[phase] || phase;
      statusLabel.className = "tag tag--" + phase;
      if (waiting) waiting.hidden = phase !== "waiting";
    }

    function answerBlock(answer) {
      var box = el("div", "qa__answer");
      var who = "Antwoord van " + answer.host + (answer.role ? " (" + answer.role + ")" : "") + ":";
      box.appendChild(el("p", "qa__label", who));
      box.appendChild(el("p", "qa__text", answer.text));
      return box;
    }

    function itemFor(id) {
      return document.getElementById("q-" + id);
    }

    function addQuestion(q) {
      if (itemFor(q.id)) return;
      var li = el("li", "qa");
      li.id = "q-" + q.id;
      li.setAttribute("data-qid", q.id);
      var question = el("p", "qa__question");
      question.appendChild(el("span", "qa__label", "Vraag" + (q.asker ? " van " + q.asker : "") + ":"));
      question.appendChild(document.createTextNode(" " + q.text));
      li.appendChild(question);
      var merged = el("p", "qa__merged muted small");
      merged.setAttribute("data-merged", "");
      merged.appendChild(document.createTextNode("Ook gevraagd door "));
      var count = el("span", "", String(q.merged_count || 0));
      count.setAttribute("data-merged-count", "");
      merged.appendChild(count);
      merged.appendChild(document.createTextNode(" anderen"));
      merged.hidden = !q.merged_count;
      li.appendChild(merged);
      if (q.answer) li.appendChild(answerBlock(q.answer));
      stream.appendChild(li);
      if (empty) empty.hidden = true;
    }

    function onEvent(ch, frame) {
      if (frame.kind !== "qa" || !frame.data) return;
      var data = frame.data;
      if (data.type === "question" && data.question) {
        addQuestion(data.question);
      } else if (data.type === "answer" && data.answer) {
        var li = itemFor(data.question_id);
        if (li && !li.querySelector(".qa__answer")) li.appendChild(answerBlock(data.answer));
      } else if (data.type === "merged") {
        var target = itemFor(data.into);
        if (target) {
          var box = target.querySelector("[data-merged]");
          box.querySelector("[data-merged-count]").textContent = String(data.merged_count);
          box.hidden = !data.merged_count;
        }
      } else if (data.type === "status") {
        var wasWaiting = root.getAttribute("data-phase") === "waiting";
        setPhase(data.status, data.label);
        // Joining a live spreekuur takes a seat: ask the server again now that it has started.
        if (wasWaiting && data.status === "live" && live && root.getAttribute("data-staff") !== "1") {
          live.rejoin(channel);
        }
      }
    }

    function showFull() {
      if (fullRegion && !fullRegion.textContent.trim()) {
        var message = el("p", "notice", fullRegion.getAttribute("data-full-text"));
        fullRegion.appendChild(message);
      }
      if (askForm) askForm.hidden = true;
    }

    function tickCountdown() {
      if (!countdown || root.getAttribute("data-phase") !== "waiting") return;
      var starts = Date.parse(root.getAttribute("data-starts"));
      var left = Math.max(0, Math.floor((starts - Date.now()) / 1000));
      if (left <= 0) {
        countdown.textContent = "Het spreekuur begint zo.";
        return;
      }
      var days = Math.floor(left / 86400);
      var hours = Math.floor((left % 86400) / 3600);
      var minutes = Math.floor((left % 3600) / 60);
      var seconds = left % 60;
      var parts = [];
      if (days) parts.push(days + (days === 1 ? " dag" : " dagen"));
      if (hours) parts.push(hours + " uur");
      if (minutes) parts.push(minutes + (minutes === 1 ? " minuut" : " minuten"));
      if (!days) parts.push(seconds + (seconds === 1 ? " seconde" : " seconden"));
      countdown.textContent = "Nog " + parts.join(", ") + ".";
    }
    tickCountdown();
    window.setInterval(tickCountdown, 1000);

    var position = {
      offset: parseInt(root.getAttribute("data-offset"), 10) || 0,
      epoch: root.getAttribute("data-epoch") || ""
    };
    var mode = root.getAttribute("data-live");
    if (mode === "off") {
      root.setAttribute("data-connection-state", "off");
    } else if (mode === "ws" && "WebSocket" in window) {
      var positions = {};
      positions[channel] = position;
      live = new Live(positions, onEvent, function (state, frame) {
        root.setAttribute("data-connection-state", state);
        if (!connection) return;
        if (state === "closed") {
          connection.hidden = false;
          connection.textContent = "Verbinding verbroken; we maken opnieuw verbinding…";
        } else if (state === "open") {
          connection.hidden = true;
        } else if (state === "reload") {
          window.location.reload();
        } else if (state === "stopped") {
          connection.hidden = false;
          connection.textContent = "De live verbinding is gestopt. Laad de pagina opnieuw.";
        } else if (state === "forbidden" && frame && frame.channel === channel) {
          showFull();
        }
      });
    } else {
      root.setAttribute("data-connection-state", "poll");
      new Poller(root.getAttribute("data-stream-url"), position, onEvent);
    }
  }

  /* --- the moderators' console ------------------------------------------------------------------------ */

  function consolePage(root) {
    var id = root.getAttribute("data-spreekuur-id");
    var partUrl = root.getAttribute("data-part-url");
    var status = root.querySelector("[data-console-status]");
    var busy = false;
    var again = false;

    function mergeList(current, fresh, selector) {
      var oldList = current.querySelector(selector);
      var newList = fresh.querySelector(selector);
      if (!oldList || !newList) return false;
      var keep = {};
      Array.prototype.forEach.call(newList.children, function (item) { keep[item.getAttribute("data-qid")] = item; });
      Array.prototype.slice.call(oldList.children).forEach(function (item) {
        var qid = item.getAttribute("data-qid");
        var replacement = keep[qid];
        if (!replacement) {
          oldList.removeChild(item);
        } else if (replacement.getAttribute("data-answered") !== item.getAttribute("data-answered")) {
          oldList.replaceChild(document.importNode(replacement, true), item);
        }
        delete keep[qid];
      });
      Object.keys(keep).forEach(function (qid) { oldList.appendChild(document.importNode(keep[qid], true)); });
      return true;
    }

    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      var request = new XMLHttpRequest();
      request.open("GET", partUrl);
      request.onload = function () {
        busy = false;
        if (request.status === 200) {
          var holder = document.createElement("template");
          holder.innerHTML = request.responseText;
          var fresh = holder.content.querySelector("[data-queue]");
          var current = root.querySelector("[data-queue]");
          if (fresh && current) {
            var typing = current.contains(document.activeElement) && document.activeElement.value;
            var merged = mergeList(current, fresh, ".sq-pending") && mergeList(current, fresh, ".sq-approved");
            if (!merged && !typing) current.parentNode.replaceChild(document.importNode(fresh, true), current);
            ["[data-pending-count]", "[data-approved-count]"].forEach(function (sel) {
              var a = root.querySelector(sel);
              var b = fresh.querySelector(sel);
              if (a && b) a.textContent = b.textContent;
            });
            status.textContent = "De vragenlijst is bijgewerkt.";
          }
        }
        if (again) { again = false; refresh(); }
      };
      request.onerror = function () { busy = false; };
      request.send();
    }

    var positions = {};
    root.getAttribute("data-channels").split(" ").forEach(function (ch) { positions[ch] = null; });
    new Live(positions, function (channel, frame) {
      if (frame.kind === "spreekuur" && frame.data && frame.data.spreekuur_id !== id) return;
      if (frame.kind === "spreekuur" || frame.kind === "qa") refresh();
    }, function (state) {
      root.setAttribute("data-connection-state", state);
      if (state === "open") refresh();
    });
  }

  function start() {
    var visitor = document.querySelector("[data-spreekuur]");
    if (visitor) visitorPage(visitor);
    var staff = document.querySelector("[data-spreekuur-console]");
    if (staff) consolePage(staff);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
