/* The moderation console, live: subscribes to mod:<flavour> for each of the staff member's flavours and keeps the
   queue list current (new items inserted, claims updated, decided items removed on every console at once).
   New items are announced in a polite live region; crisis items in a prominent assertive alert.
   Without this script the console is a plain page with forms (refresh for new items). The live connection is
   GemLive from live.js (load it first): it stops, and says why, on the close codes that forbid reconnecting. */
(function () {
  "use strict";

  var root = document.getElementById("mod-console");
  if (!root || !window.GemLive || !window.GemLive.supported || !window.fetch) return;
  var _ = window.GemI18n.gettext;  // i18n.js: the visitor's language
  var fmt = window.GemI18n.format;
  var list = document.getElementById("mod-queue");
  var live = document.getElementById("mod-live");
  var alertBox = document.getElementById("mod-alert");
  var status = document.getElementById("mod-status");
  var count = document.getElementById("mod-count");
  var empty = document.getElementById("mod-empty");
  var channels = (root.getAttribute("data-channels") || "").split(" ").filter(Boolean);
  var myRank = parseInt(root.getAttribute("data-tier-rank") || "0", 10);
  var params = new URLSearchParams(window.location.search);
  var filter = { flavour: params.get("flavour") || "", tier: params.get("tier") || "", source: params.get("source") || "" };

  function setStatus(text) {
    if (status) status.textContent = text;
  }

  function say(text) {
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function crisisAlert(item) {
    // The backoffice layout's alert area (crisis-alerts.js) announces crisis items on every page, this one too.
    if (!alertBox || document.getElementById("crisis-alerts")) return;
    alertBox.textContent = "";
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = _("Crisis: iemand is mogelijk in gevaar.") + " ";
    p.appendChild(strong);
    var link = document.createElement("a");
    link.href = "/backoffice/moderatie/" + encodeURIComponent(item.id);
    link.textContent = _("Neem het item direct op");
    p.appendChild(link);
    if (item.no_professional_on_shift) {
      var extra = document.createElement("span");
      extra.textContent = " " + _("(geen professional in dienst)");
      p.appendChild(extra);
    }
    alertBox.appendChild(p);
    alertBox.classList.add("mod-alert--active");
    if (document.title.indexOf("⚠") !== 0) document.title = "⚠ " + document.title;
  }

  function refreshCount() {
    var n = list ? list.querySelectorAll("li[data-item]").length : 0;
    if (count) count.textContent = String(n);
    if (empty) empty.hidden = n > 0;
  }

  function matchesFilter(item) {
    if (filter.flavour && item.flavour !== filter.flavour) return false;
    if (filter.tier && item.tier !== filter.tier) return false;
    if (filter.source && item.source !== filter.source) return false;
    return myRank === 0 || item.tier_rank <= myRank;
  }

  function removeItem(id) {
    var row = document.getElementById("item-" + id);
    if (row && row.parentNode) row.parentNode.removeChild(row);
    refreshCount();
  }

  function placeRow(row, item) {
    // Most severe first, then oldest first (the server's order).
    var rows = list.querySelectorAll("li[data-item]");
    var rank = item.severity_rank || 0;
    for (var i = 0; i < rows.length; i++) {
      var other = rows[i];
      var otherRank = parseInt(other.getAttribute("data-severity-rank") || "0", 10);
      var otherCreated = parseInt(other.getAttribute("data-created") || "0", 10);
      if (rank > otherRank || (rank === otherRank && item.created_at < otherCreated)) {
        list.insertBefore(row, other);
        return;
      }
    }
    list.appendChild(row);
  }

  function loadRow(item, announce) {
    return fetch("/backoffice/moderatie/" + encodeURIComponent(item.id) + "/rij", {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (response) {
      if (!response.ok) { removeItem(item.id); return; }
      return response.text().then(function (html) {
        var holder = document.createElement("ul");
        holder.innerHTML = html.trim();
        var row = holder.querySelector("li[data-item]");
        if (!row) return;
        row.setAttribute("data-severity-rank", String(item.severity_rank || 0));
        var existing = document.getElementById("item-" + item.id);
        if (existing) {
          var box = existing.querySelector("input[type=checkbox]");
          var fresh = row.querySelector("input[type=checkbox]");
          if (box && fresh) fresh.checked = box.checked;
          existing.parentNode.replaceChild(row, existing);
        } else {
          placeRow(row, item);
        }
        refreshCount();
        if (announce === "crisis") {
          crisisAlert(item);
        } else if (announce === "new") {
          say(item.source === "report" ? _("Nieuw item in de wachtrij: melding.")
            : _("Nieuw item in de wachtrij: tegengehouden bericht."));
        }
      });
    }).catch(function () { /* the next refresh shows it */ });
  }

  function onModeration(data) {
    var item = data && data.item;
    if (!item || !item.id) return;
    var event = data.event;
    if (event === "decided" || item.state === "decided") {
      var had = document.getElementById("item-" + item.id);
      removeItem(item.id);
      if (had) say(_("Een item is afgehandeld door een collega."));
      return;
    }
    if (!matchesFilter(item)) { removeItem(item.id); return; }
    if (event === "crisis") {
      // The alert first (the event says enough), the row with the text as soon as it is fetched.
      crisisAlert(item);
      loadRow(item, "");
      return;
    }
    if (event === "new") { loadRow(item, "new"); return; }
    loadRow(item, event === "escalated" ? "new" : "");
  }

  function connect() {
    window.GemLive.connect({
      channels: channels,
      onSubscribed: function () { root.setAttribute("data-live", "1"); },
      onEvent: function (frame) { if (frame.kind === "moderation") onModeration(frame.data); },
      onReload: function () { window.location.reload(); },
      onStatus: function (state, text) {
        if (state === "connected") {
          setStatus(_("Live: nieuwe items verschijnen vanzelf."));
        } else if (state === "reconnecting" || state === "offline") {
          root.removeAttribute("data-live");
          setStatus(_("Verbinding verbroken; opnieuw verbinden…"));
        } else if (state === "stopped") {
          root.removeAttribute("data-live");
          setStatus(text);
        }
      }
    });
  }

  // Age against the target, updated every 30 s without a reload.
  window.setInterval(function () {
    var now = Date.now();
    var rows = list ? list.querySelectorAll("li[data-item]") : [];
    for (var i = 0; i < rows.length; i++) {
      var created = parseInt(rows[i].getAttribute("data-created") || "0", 10);
      var ageEl = rows[i].querySelector(".mod-item__age");
      if (!created || !ageEl) continue;
      var minutes = Math.max(0, Math.floor((now - created) / 60000));
      var text = minutes < 60 ? fmt(_("{m} min"), {m: minutes})
        : fmt(_("{h} u {m} min"), {h: Math.floor(minutes / 60), m: minutes % 60});
      ageEl.firstChild.nodeValue = text + " / " + _("doel") + " " + ageEl.getAttribute("data-target");
    }
  }, 30000);

  if (channels.length) connect();
})();
