/* Live replies on a forum thread page: subscribes to the thread's channel (GemLive from live.js, loaded first),
   fetches each new post as an HTML fragment and appends it; announces it in a polite live region.
   Without JavaScript the page works as before (reload to see new replies). */
(function () {
  "use strict";
  var root = document.querySelector("[data-forum-channel]");
  if (!root || !window.GemLive || !window.GemLive.supported || !window.fetch) { return; }
  var channel = root.getAttribute("data-forum-channel");
  var list = document.getElementById("berichten");
  var status = document.getElementById("forum-live-status");

  function announce(text) {
    if (!status) { return; }
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function addPost(data) {
    if (!list || !data || !data.post_id || document.getElementById("bericht-" + data.post_id)) { return; }
    var url = String(data.fragment || "");
    if (url.charAt(0) !== "/" || url.charAt(1) === "/") { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html || document.getElementById("bericht-" + data.post_id)) { return; }
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var node = template.content.firstElementChild;
        if (!node || node.tagName !== "ARTICLE") { return; }
        list.appendChild(node);
        var _ = window.GemI18n.gettext;
        announce(data.author ? window.GemI18n.format(_("Nieuwe reactie van {name}"), {name: String(data.author)})
          : _("Nieuwe reactie"));
      })
      .catch(function () { /* the reply shows on the next page load */ });
  }

  function replacePost(data) {
    var current = data && data.post_id ? document.getElementById("bericht-" + data.post_id) : null;
    var url = String((data && data.fragment) || "");
    if (!current || url.charAt(0) !== "/" || url.charAt(1) === "/") { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html) { return; }
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var node = template.content.firstElementChild;
        var old = document.getElementById("bericht-" + data.post_id);
        if (!node || node.tagName !== "ARTICLE" || !old) { return; }
        old.parentNode.replaceChild(node, old);
      })
      .catch(function () { /* the edit shows on the next page load */ });
  }

  function removePost(data) {
    var node = data && data.post_id ? document.getElementById("bericht-" + data.post_id) : null;
    if (node) { node.parentNode.removeChild(node); }
  }

  window.GemLive.connect({
    channels: [channel],
    onEvent: function (frame) {
      if (frame.channel !== channel) { return; }
      if (frame.kind === "post") { addPost(frame.data); }
      if (frame.kind === "post_removed") { removePost(frame.data); }
      if (frame.kind === "post_edited") { replacePost(frame.data); }
    }
  });
})();
