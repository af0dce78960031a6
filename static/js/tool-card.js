/* The staff console's "suggest a tool" picker: searching the VitaliteitsMarkt refreshes the list of entries in
   place (the page rendered again with ?zoek=, its list taken over) instead of reloading the whole chat page, so a
   half-written message stays. Without JavaScript the search form reloads the page; both use the server's search. */
(function () {
  "use strict";

  function init() {
    var search = document.getElementById("card-search");
    var select = document.getElementById("card-entry");
    var count = document.getElementById("card-count");
    if (!search || !select || !window.fetch || !window.DOMParser) { return; }
    var busy = false;

    search.addEventListener("submit", function (e) {
      e.preventDefault();
      if (busy) { return; }
      busy = true;
      var url = search.getAttribute("action") + "?" + new URLSearchParams(new FormData(search)).toString();
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { search.submit(); return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("card-entry");
          var freshCount = doc.getElementById("card-count");
          if (!fresh) { return; }
          select.replaceChildren.apply(select, Array.prototype.map.call(fresh.options, function (o) {
            return document.importNode(o, true);
          }));
          if (count && freshCount) { count.textContent = freshCount.textContent; }
        })
        .catch(function () { search.submit(); })
        .then(function () { busy = false; });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
