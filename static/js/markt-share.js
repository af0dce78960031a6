/* A market entry's "link to share": the field holds the entry's stable address; with JavaScript a button copies
   it (the page says so in its own words, data-done) and focusing the field selects it. */
(function () {
  "use strict";

  function init() {
    var box = document.querySelector("[data-share]");
    if (!box) { return; }
    var field = box.querySelector("[data-share-link]");
    var button = box.querySelector("[data-share-copy]");
    var status = box.querySelector("[data-share-status]");
    if (!field || !button) { return; }
    field.addEventListener("focus", function () { field.select(); });

    function done() { if (status) { status.textContent = button.getAttribute("data-done") || ""; } }

    function fallback() {
      field.focus();
      field.select();
      try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the field stays selected to copy by hand */ }
    }

    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
