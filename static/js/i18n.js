/* GemI18n: what the scripts say, in the visitor's language (docs/decisions/0022). Plain browser JavaScript without
 * dependencies; templates/base.html loads it with `defer` before every other script.
 *
 * Dutch is the source language: a message id is its Dutch text. For another language the server renders the
 * scripts' messages into <script type="application/json" id="gem-i18n"> (msgid -> text, or [form for 1, form
 * for more] for a count); a Dutch page has no such block and every message is its own id.
 *
 *   var _ = GemI18n.gettext;                  _("Verbonden") -> "Connected" on an English page
 *   GemI18n.ngettext(singular, plural, n)     the form for the count n (Dutch and English: one form for 1)
 *   GemI18n.format(text, {name: value})       fills in {name}: GemI18n.format(_("Nog {n} min."), {n: 3})
 *   GemI18n.N_(text)                          marks a message kept in a table; translate it where it is shown
 *
 * Mark every message where it is written, `_("…")`, `N_("…")` or `ngettext("…", "…", n)`, so that `make i18n-update`
 * (pybabel's javascript extractor, babel.cfg) finds it and the server sends its translation.
 */
(function () {
  "use strict";

  if (window.GemI18n) { return; }

  var messages = null;

  function load() {
    if (messages === null) {
      messages = {};
      var block = document.getElementById("gem-i18n");
      if (block) {
        try { messages = JSON.parse(block.textContent) || {}; } catch (e) { messages = {}; }
      }
    }
    return messages;
  }

  function gettext(msgid) {
    var found = load()[msgid];
    return typeof found === "string" && found ? found : msgid;
  }

  function ngettext(singular, plural, n) {
    var found = load()[singular];
    var index = n === 1 ? 0 : 1;
    if (found && typeof found === "object" && found[index]) { return found[index]; }
    return index === 0 ? singular : plural;
  }

  function format(text, values) {
    var given = values || {};
    return String(text).replace(/\{([a-z_]+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(given, name) ? String(given[name]) : whole;
    });
  }

  function N_(msgid) { return msgid; }

  window.GemI18n = {
    gettext: gettext,
    ngettext: ngettext,
    format: format,
    N_: N_,
    lang: document.documentElement.getAttribute("lang") || "nl"
  };
}());
