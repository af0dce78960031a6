/* Quick exit ("Snel weg"): leave the site at once.
 *
 * Any element with [data-quick-exit] triggers it (the link in base.html also works without
 * JavaScript: it is a plain link to Google). Pressing Escape three times within 1.5 seconds
 * does the same. We hide the page first, so nothing stays on screen while the next page
 * loads, and use location.replace so that Back does not return to this page.
 * No dependencies; loaded with `defer`.
 */
(function () {
  "use strict";

  var EXIT_URL = "https://www.google.nl/";
  var ESCAPE_PRESSES = 3;
  var ESCAPE_WINDOW_MS = 1500;
  var escapeTimes = [];
  var leaving = false;

  function quickExit(event) {
    if (event) {
      event.preventDefault();
    }
    if (leaving) {
      return;
    }
    leaving = true;
    try {
      document.title = "";
      if (document.body) {
        document.body.hidden = true;
        while (document.body.firstChild) {
          document.body.removeChild(document.body.firstChild);
        }
      }
    } finally {
      window.location.replace(EXIT_URL);
    }
  }

  function onClick(event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-quick-exit]")) {
      quickExit(event);
    }
  }

  function onKeydown(event) {
    if (event.key !== "Escape" && event.key !== "Esc") {
      return;
    }
    var now = Date.now();
    escapeTimes.push(now);
    escapeTimes = escapeTimes.filter(function (t) {
      return now - t <= ESCAPE_WINDOW_MS;
    });
    if (escapeTimes.length >= ESCAPE_PRESSES) {
      escapeTimes = [];
      quickExit(event);
    }
  }

  document.addEventListener("click", onClick, true);
  document.addEventListener("keydown", onKeydown, true);
  window.quickExit = quickExit;
})();
