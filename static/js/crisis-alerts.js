/* Crisis alerts on every backoffice page: follows mod:<flavour> of the staff member's flavours (the same channel
   and "moderation" event the moderation console uses) and shows each crisis item in an assertive live region with a
   one-click claim (claim, then straight to the message in its context) and a link to the message. A short tone and a
   flashing title draw attention; staff can switch both off (remembered in localStorage). The live connection is
   GemLive from live.js (load it first); when it stops for good, the area says so: alerts no longer arrive. */
(function () {
  "use strict";

  var root = document.getElementById("crisis-alerts");
  if (!root || !window.GemLive || !window.GemLive.supported) return;
  var _ = window.GemI18n.gettext;  // i18n.js: the visitor's language
  var fmt = window.GemI18n.format;
  var list = document.getElementById("crisis-alerts-list");
  var tools = root.querySelector("[data-crisis-tools]");
  var toggle = root.querySelector("[data-crisis-signal]");
  var channels = (root.getAttribute("data-channels") || "").split(" ").filter(Boolean);
  var myRank = parseInt(root.getAttribute("data-tier-rank") || "0", 10);
  var csrf = root.getAttribute("data-csrf") || "";
  var STORE_KEY = "gem-crisis-signal";
  var originalTitle = document.title;
  var flashTimer = null;

  function signalOn() {
    try { return window.localStorage.getItem(STORE_KEY) !== "uit"; } catch (e) { return true; }
  }

  function showToggle() {
    if (!toggle) return;
    var on = signalOn();
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? _("Geluid en knipperende titel: aan") : _("Geluid en knipperende titel: uit");
  }

  if (tools) tools.hidden = false;
  showToggle();
  if (toggle) {
    toggle.addEventListener("click", function () {
      try { window.localStorage.setItem(STORE_KEY, signalOn() ? "uit" : "aan"); } catch (e) { /* private mode */ }
      showToggle();
      if (!signalOn()) stopFlash();
    });
  }

  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ctx = new Ctx();
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
      osc.onended = function () { ctx.close(); };
    } catch (e) { /* no audio before a user gesture: the title still flashes */ }
  }

  function stopFlash() {
    if (flashTimer) { window.clearInterval(flashTimer); flashTimer = null; }
    document.title = originalTitle;
  }

  function flash() {
    if (flashTimer) return;
    var on = false;
    flashTimer = window.setInterval(function () {
      on = !on;
      document.title = on ? "⚠ " + _("CRISISMELDING") : originalTitle;
    }, 1000);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && list && !list.querySelector("[data-open]")) stopFlash();
  });

  function alertFor(item) {
    var box = document.createElement("div");
    box.className = "crisis-alert";
    box.id = "crisis-alert-" + item.id;
    box.setAttribute("data-open", "1");
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = fmt(_("Crisismelding: iemand is mogelijk in gevaar ({flavour})."), {flavour: item.flavour}) + " ";
    p.appendChild(strong);
    if (item.no_professional_on_shift) {
      var none = document.createElement("span");
      none.textContent = _("Er is geen professional in dienst: deze melding gaat naar ervaringsdeskundigen en beheerders.") + " ";
      p.appendChild(none);
    }
    box.appendChild(p);
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/backoffice/moderatie/" + encodeURIComponent(item.id);
    form.className = "crisis-alert__actions";
    [["csrf_token", csrf], ["action", "claim"], ["volgende", "context"]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "button";
    button.textContent = _("Oppakken");
    form.appendChild(button);
    form.appendChild(document.createTextNode(" "));
    var link = document.createElement("a");
    link.href = item.context_url || ("/backoffice/moderatie/" + encodeURIComponent(item.id));
    link.textContent = _("Bekijk het bericht in zijn context");
    form.appendChild(link);
    box.appendChild(form);
    var state = document.createElement("p");
    state.className = "crisis-alert__state small";
    box.appendChild(state);
    return box;
  }

  function onModeration(data) {
    var item = data && data.item;
    if (!item || !item.id || !list) return;
    var existing = document.getElementById("crisis-alert-" + item.id);
    if (data.event === "crisis") {
      if (existing || !item.crisis || (myRank && item.tier_rank > myRank)) return;
      list.insertBefore(alertFor(item), list.firstChild);
      root.classList.add("crisis-alerts--active");
      if (signalOn()) { beep(); flash(); }
      return;
    }
    if (!existing) return;
    var state = existing.querySelector(".crisis-alert__state");
    if (data.event === "decided" || item.state === "decided") {
      existing.parentNode.removeChild(existing);
      if (!list.querySelector("[data-open]")) { root.classList.remove("crisis-alerts--active"); stopFlash(); }
    } else if (item.claimed_by) {
      existing.removeAttribute("data-open");
      if (state) {
        state.textContent = item.claimed_name ? fmt(_("Opgepakt door {name}."), {name: item.claimed_name})
          : _("Opgepakt door een collega.");
      }
      if (!list.querySelector("[data-open]")) stopFlash();
    }
  }

  function showStopped(text) {
    var note = root.querySelector("[data-crisis-stopped]");
    if (!note) {
      note = document.createElement("p");
      note.className = "crisis-alerts__state small";
      note.setAttribute("data-crisis-stopped", "");
      note.setAttribute("role", "status");
      root.appendChild(note);
    }
    note.textContent = _("Crisismeldingen komen niet meer binnen.") + " " + text;
  }

  function connect() {
    window.GemLive.connect({
      channels: channels,
      onSubscribed: function () { root.setAttribute("data-live", "1"); },
      onEvent: function (frame) { if (frame.kind === "moderation") onModeration(frame.data); },
      onStatus: function (state, text) {
        if (state === "connected") return;
        root.removeAttribute("data-live");
        if (state === "stopped") showStopped(text);
      }
    });
  }

  if (channels.length) connect();
})();
