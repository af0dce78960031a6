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
 *   GemI18n.translate(text)                   a Dutch text that arrived live (system line, notice, alert), in the
 *                                             page's language when the page carries its message (live_texts)
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

  // translate(text): like chatserver.i18n.translate. A text that arrives live (a stored system line, a notice, an
  // alert) is Dutch; a page that shows such texts carries their messages, and this finds one, also one formatted
  // with its values ("… %s …", values that are messages translated too), or a run of them sentence by sentence.
  var PLACEHOLDER = /%(?:\((\w+)\))?(?:0?\d+)?([sd])|%%/g;
  var patterns = null;

  function escapeRe(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  function compile(msgid) {
    var parts = [], slots = [], position = 0, found;
    PLACEHOLDER.lastIndex = 0;
    while ((found = PLACEHOLDER.exec(msgid)) !== null) {
      parts.push(escapeRe(msgid.slice(position, found.index)));
      if (found[0] === "%%") { parts.push("%"); } else {
        parts.push(found[2] === "d" ? "(-?\\d+)" : "([\\s\\S]+?)");
        slots.push({name: found[1] || "", kind: found[2]});
      }
      position = found.index + found[0].length;
    }
    if (!slots.length) { return null; }
    parts.push(escapeRe(msgid.slice(position)));
    return {msgid: msgid, regex: new RegExp("^" + parts.join("") + "$"), slots: slots,
            literal: msgid.replace(PLACEHOLDER, "").length};
  }

  function compiled() {
    if (patterns === null) {
      patterns = [];
      var all = load();
      Object.keys(all).forEach(function (msgid) {
        var p = typeof all[msgid] === "string" && all[msgid] ? compile(msgid) : null;
        if (p) { patterns.push(p); }
      });
      patterns.sort(function (a, b) { return b.literal - a.literal; });
    }
    return patterns;
  }

  function fill(pattern, match, depth) {
    var values = {}, list = [];
    pattern.slots.forEach(function (slot, i) {
      var value = match[i + 1];
      if (slot.kind === "s" && depth > 0) { value = one(value, depth - 1) || value; }
      list.push(value);
      if (slot.name) { values[slot.name] = value; }
    });
    var next = 0;
    return load()[pattern.msgid].replace(PLACEHOLDER, function (whole, name) {
      if (whole === "%%") { return "%"; }
      return name ? String(values[name]) : String(list[next++]);
    });
  }

  function known(text) {
    var found = load()[text];
    return typeof found === "string" && found ? found : null;
  }

  function one(text, depth) {
    var found = known(text);
    if (found) { return found; }
    var capital = text.charAt(0).toUpperCase() + text.slice(1);
    found = capital !== text ? known(capital) : null;
    if (found) { return found.charAt(0).toLowerCase() + found.slice(1); }
    var small = text.charAt(0).toLowerCase() + text.slice(1);
    found = small !== text ? known(small) : null;
    if (found) { return found.charAt(0).toUpperCase() + found.slice(1); }
    var list = compiled();
    for (var i = 0; i < list.length; i++) {
      var match = list[i].regex.exec(text);
      if (match) { return fill(list[i], match, depth); }
    }
    return null;
  }

  function sentences(text) {
    var cuts = [0], ends = [], end = /[.!?\u2026:]\s+/g, found;
    while ((found = end.exec(text)) !== null) { ends.push(found.index + 1); cuts.push(end.lastIndex); }
    ends.push(text.length);
    if (cuts.length < 2 || cuts.length > 12) { return text; }
    var out = "", i = 0;
    while (i < cuts.length) {
      var done = false;
      for (var j = cuts.length - 1; j >= i && !done; j--) {
        var translated = one(text.slice(cuts[i], ends[j]), 2);
        if (translated !== null) {
          out += translated + text.slice(ends[j], j + 1 < cuts.length ? cuts[j + 1] : text.length);
          i = j + 1; done = true;
        }
      }
      if (!done) { out += text.slice(cuts[i], i + 1 < cuts.length ? cuts[i + 1] : text.length); i++; }
    }
    return out;
  }

  function translate(text) {
    if (!text) { return text; }
    var s = String(text);
    if (!Object.keys(load()).length) { return s; }
    var found = one(s, 2);
    return found !== null ? found : sentences(s);
  }

  window.GemI18n = {
    gettext: gettext,
    ngettext: ngettext,
    format: format,
    N_: N_,
    translate: translate,
    lang: document.documentElement.getAttribute("lang") || "nl"
  };
}());
