/* The 1-on-1 staff console: follows the queue channels and the staff member's own channel, and fetches the
   panel again on every change. The live connection is GemLive from live.js (load it first). */
(function () {
  "use strict";

  var _ = window.GemI18n.gettext;  // i18n.js: the visitor's language
  var fmt = window.GemI18n.format;

  function init() {
    var root = document.getElementById("console");
    if (!root || !window.GemLive || !window.fetch) { return; }
    var channels = (root.getAttribute("data-channels") || "").split(" ").filter(Boolean);
    var url = root.getAttribute("data-panel-url");
    var announce = document.getElementById("console-announce");
    var busy = false;
    var again = false;

    function refresh(message) {
      if (busy) { again = true; return; }
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("console-panel");
          var old = document.getElementById("console-panel");
          if (fresh && old) {
            var active = document.activeElement && document.activeElement.closest && document.activeElement.closest("#console-panel");
            if (!active) { old.replaceWith(document.importNode(fresh, true)); }
            else { again = true; }
          }
          if (message && announce) { announce.textContent = message; }
        })
        .catch(function () { return null; })
        .then(function () {
          busy = false;
          if (again) { again = false; setTimeout(function () { refresh(); }, 1000); }
        });
    }

    window.GemLive.connect({
      channels: channels,
      onEvent: function (frame) {
        if (frame.kind !== "queue") { return; }
        var d = frame.data || {};
        if (d.event === "alert" && d.alert) { refresh(fmt(_("Melding: {text}"), {text: window.GemI18n.translate(d.alert.text)})); }
        else if (d.event === "joined") { refresh(_("Nieuwe aanvraag in de wachtrij.")); }
        else { refresh(); }
      },
      onNotice: function (frame) {
        if (frame.kind !== "queue" && frame.kind !== "chat") { return; }
        var ev = frame.kind === "chat" && frame.data ? frame.data.event : "";
        refresh(ev === "assigned" ? _("Er is een gesprek aan je overgedragen.")
          : ev === "visitor_gone" ? _("Een gesprek is beëindigd: de bezoeker was al een paar minuten niet meer verbonden. Je plek is weer vrij.")
          : "");
      },
      onReload: function () { refresh(); },
      onStatus: function (state, text) {
        if (state === "stopped" && announce) { announce.textContent = text; }
      }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
