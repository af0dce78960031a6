/* E-spreekuur: the live Q&A stream for visitors and the live question queue for moderators.
 * The live connection is GemLive from live.js (load it first): positions, recovery, back-off and close codes
 * live there. Visitors without a session follow the stored events over HTTP (stroom.json) instead.
 * Without JavaScript the pages still work: they show the start time and the Q&A as rendered. */
(function () {
  "use strict";

  var _ = window.GemI18n.gettext;  // i18n.js: the visitor's language
  var N_ = window.GemI18n.N_;
  var ngettext = window.GemI18n.ngettext;
  var fmt = window.GemI18n.format;
  var POLL_MS = 4000;

  /* The page's connection states on data-connection-state: "open", "closed" (reconnecting), "stopped",
     "reload" and "forbidden" (a refused subscription: for a spreekuur, no free seat). */
  function Live(channels, onEvent, onState) {
    onState = onState || function () {};
    return window.GemLive.connect({
      channels: channels,
      onEvent: function (frame) { onEvent(frame.channel, frame); },
      onReload: function (frame) { onState("reload", frame); },
      onError: function (frame, pending, request) {
        if (frame.code !== 4202) return;
        var channel = frame.channel || (request && request.channel);
        onState("forbidden", { code: frame.code, reason: frame.reason, channel: channel });
      },
      onStatus: function (state) {
        if (state === "connected") onState("open");
        else if (state === "reconnecting" || state === "offline") onState("closed");
        else if (state === "stopped") { onState("closed"); onState("stopped"); }
      }
    });
  }

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
    var labels = { waiting: N_("Binnenkort"), live: N_("Nu live"), ended: N_("Afgelopen"), cancelled: N_("Gaat niet door") };

    function setPhase(phase, label) {
      root.setAttribute("data-phase", phase);
      statusLabel.textContent = _(label || labels[phase] || phase);
      statusLabel.className = "tag tag--" + phase;
      if (waiting) waiting.hidden = phase !== "waiting";
    }

    function answerBlock(answer) {
      var box = el("div", "qa__answer");
      var who = answer.role ? fmt(_("Antwoord van {name} ({role}):"), {name: answer.host, role: _(answer.role)})
        : fmt(_("Antwoord van {name}:"), {name: answer.host});
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
      question.appendChild(el("span", "qa__label", q.asker ? fmt(_("Vraag van {name}:"), {name: q.asker}) : _("Vraag:")));
      question.appendChild(document.createTextNode(" " + q.text));
      li.appendChild(question);
      var merged = el("p", "qa__merged muted small");
      merged.setAttribute("data-merged", "");
      var around = _("Ook gevraagd door {n} anderen").split("{n}");  // the count is an element of its own
      merged.appendChild(document.createTextNode(around[0]));
      var count = el("span", "", String(q.merged_count || 0));
      count.setAttribute("data-merged-count", "");
      merged.appendChild(count);
      merged.appendChild(document.createTextNode(around.slice(1).join("")));
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
          live.resubscribe(channel);
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
        countdown.textContent = _("Het spreekuur begint zo.");
        return;
      }
      var days = Math.floor(left / 86400);
      var hours = Math.floor((left % 86400) / 3600);
      var minutes = Math.floor((left % 3600) / 60);
      var seconds = left % 60;
      var parts = [];
      if (days) parts.push(fmt(ngettext("{n} dag", "{n} dagen", days), {n: days}));
      if (hours) parts.push(fmt(ngettext("{n} uur", "{n} uur", hours), {n: hours}));
      if (minutes) parts.push(fmt(ngettext("{n} minuut", "{n} minuten", minutes), {n: minutes}));
      if (!days) parts.push(fmt(ngettext("{n} seconde", "{n} seconden", seconds), {n: seconds}));
      countdown.textContent = fmt(_("Nog {time}."), {time: parts.join(", ")});
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
    } else if (mode === "ws" && window.GemLive && window.GemLive.supported) {
      live = Live([{ name: channel, since: position.epoch ? position : null }], onEvent, function (state, frame) {
        root.setAttribute("data-connection-state", state);
        if (!connection) return;
        if (state === "closed") {
          connection.hidden = false;
          connection.textContent = _("Verbinding verbroken; we maken opnieuw verbinding…");
        } else if (state === "open") {
          connection.hidden = true;
        } else if (state === "reload") {
          window.location.reload();
        } else if (state === "stopped") {
          connection.hidden = false;
          connection.textContent = _("De live verbinding is gestopt. Laad de pagina opnieuw.");
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
            status.textContent = _("De vragenlijst is bijgewerkt.");
          }
        }
        if (again) { again = false; refresh(); }
      };
      request.onerror = function () { busy = false; };
      request.send();
    }

    if (!window.GemLive || !window.GemLive.supported) return;
    Live(root.getAttribute("data-channels").split(" ").filter(Boolean), function (channel, frame) {
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
