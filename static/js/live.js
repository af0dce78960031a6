/* GemLive: the one live connection client of the site, written from docs/protocol.md (protocol v1). Plain browser
 * JavaScript without dependencies; load it with `defer` before the page script that uses it. Only this file opens
 * a WebSocket (tests/unit/test_live_client.py checks that, and the close-code table below).
 *
 *   var conn = GemLive.connect({
 *     channels: ["queue:psychosenet", {name: "chat:psychosenet:abc", since: {offset: 41, epoch: "9f2c3a1b7e00"}}],
 *     remember: false,                    // also keep positions in sessionStorage (recovery across page loads)
 *     onEvent: function (frame) {},       // stored events: each exactly once per channel, in offset order, also
 *                                         // the ones replayed after a reconnect or a subscribe with "since"
 *     onReload: function (frame) {},      // history too old or epoch changed: fetch it over HTTP (or reload the
 *                                         // page); the position has already moved on to frame.position
 *     onAck: function (frame, pending) {},        // your message is stored (frame.held, frame.notice)
 *     onError: function (frame, pending, request) {},  // an error frame; pending {clientMsgId, channel, text}
 *                                         // when it answers your publish, request {type, channel} when it answers
 *                                         // a request of yours
 *     onNotice, onPresence, onTyping, onSubscribed: function (frame) {},
 *     onStatus: function (state, text, code) {}  // "connecting" | "connected" | "reconnecting" | "offline" |
 *                                         // "stopped"; text in the visitor's language (GemI18n from
 *                                         // i18n.js), code the close code that led to it
 *   });
 *   conn.publish(channel, text) -> clientMsgId   kept and resent after a reconnect until acknowledged (the same
 *                                                client_msg_id: never stored twice); 4204/4205 are retried as told
 *   conn.typing(channel)                         at most one per 3 s per channel
 *   conn.subscribe(channel, since)  conn.unsubscribe(channel)  conn.resubscribe(channel) (ask the server again)
 *   conn.position(channel)  conn.connected()  conn.close()
 *   conn.dropForTest()                           closes the socket as a lost network would
 *
 *   GemLive.closeAction(code) -> "reconnect" | "stop"   GemLive.stopText(code)   GemLive.backoffDelay(attempt)
 *
 * Reconnecting uses exponential back-off with full jitter (a random wait between 0 and 500 ms · 2^attempt, at
 * most 15 s) after 4000–4099, 1001, 1006 and 1011–1014; 4100–4199 and other codes stop with a text for the
 * person (a Dutch message id in STOP_TEXTS, translated when shown).
 */
(function () {
  "use strict";

  if (window.GemLive) { return; }  // the layout and the page may both load this file: one definition

  var _ = window.GemI18n.gettext;  // i18n.js, loaded first by templates/base.html
  var N_ = window.GemI18n.N_;

  var BACKOFF_BASE_MS = 500;
  var BACKOFF_CAP_MS = 15000;
  var STABLE_AFTER_MS = 10000;   // a connection that lived this long after "welcome" starts the back-off afresh
  var PING_EVERY_MS = 15000;
  var SILENCE_LIMIT_MS = 45000;
  var TYPING_EVERY_MS = 3000;
  var RETRY_MIN_MS = 200;
  var STORAGE_PREFIX = "gemchat:pos:";

  // BEGIN CLOSE_CODES: what the client does after each close code of chatserver/protocol/codes.py (CloseCode).
  // 4000–4099: reconnect and resume from the positions; 4100–4199: stop until the person acts.
  var CLOSE_CODES = {
    4000: "reconnect",  // SERVICE_RESTART
    4001: "reconnect",  // SLOW_CONSUMER
    4002: "reconnect",  // UNAVAILABLE
    4003: "reconnect",  // IDLE_TIMEOUT
    4100: "stop",       // SESSION_ENDED
    4101: "stop",       // FORBIDDEN_ORIGIN
    4102: "stop",       // PROTOCOL_ERROR
    4103: "stop",       // MESSAGE_TOO_BIG
    4104: "stop",       // RATE_LIMIT_ABUSE
    4105: "stop",       // BANNED
    4106: "stop",       // UNSUPPORTED_VERSION
    4107: "stop"        // TOO_MANY_CONNECTIONS
  };
  // END CLOSE_CODES

  // BEGIN ERROR_CODES: the codes of error frames (ErrorCode); the connection stays open. "retry": send the same
  // publish again after retry_after_ms (RETRYABLE_ERRORS); "error": tell the page.
  var ERROR_CODES = {
    4200: "error",  // BAD_REQUEST
    4201: "error",  // UNKNOWN_TYPE
    4202: "error",  // FORBIDDEN
    4203: "error",  // NOT_SUBSCRIBED
    4204: "retry",  // RATE_LIMITED
    4205: "retry",  // UNAVAILABLE
    4206: "error",  // INVALID_MESSAGE
    4207: "error",  // UNAUTHENTICATED
    4208: "error",  // TOO_MANY_SUBSCRIPTIONS
    4209: "error",  // ALREADY_AUTHENTICATED
    4210: "error"   // REFUSED
  };
  // END ERROR_CODES

  // BEGIN STOP_TEXTS: what the person reads when the connection stops (Dutch message ids, translated by stopText).
  var STOP_TEXTS = {
    4100: N_("Je sessie is verlopen of je bent uitgelogd. Laad de pagina opnieuw om verder te chatten."),
    4101: N_("Deze chat kan vanaf deze pagina niet verbinden."),
    4102: N_("Er ging iets mis in de verbinding. Laad de pagina opnieuw."),
    4103: N_("Je bericht was te groot. Laad de pagina opnieuw."),
    4104: N_("Er werden te veel verzoeken geweigerd. Laad de pagina over een minuut opnieuw."),
    4105: N_("Je hebt geen toegang meer tot de chat."),
    4106: N_("Deze versie van de chat wordt niet meer ondersteund. Laad de pagina opnieuw."),
    4107: N_("Je hebt te veel chatvensters tegelijk open. Sluit er een paar en laad de pagina opnieuw.")
  };
  // END STOP_TEXTS
  var STOP_TEXT_OTHER = N_("De verbinding is verbroken. Laad de pagina opnieuw.");
  var STOP_TEXT_CLOSED = N_("De verbinding is gesloten. Laad de pagina opnieuw om verder te chatten.");

  var STATUS_TEXT = {
    connecting: N_("Verbinden…"),
    connected: N_("Verbonden"),
    reconnecting: N_("Opnieuw verbinden…"),
    offline: N_("Geen verbinding. We proberen het opnieuw zodra je weer online bent.")
  };

  function noop() {}

  function closeAction(code) {
    if (Object.prototype.hasOwnProperty.call(CLOSE_CODES, code)) { return CLOSE_CODES[code]; }
    if (code >= 4000 && code <= 4099) { return "reconnect"; }
    if (code >= 4100 && code <= 4199) { return "stop"; }
    if (code === 1001 || code === 1006 || (code >= 1011 && code <= 1014)) { return "reconnect"; }
    return "stop";
  }

  function stopText(code) {
    if (Object.prototype.hasOwnProperty.call(STOP_TEXTS, code)) { return _(STOP_TEXTS[code]); }
    return _(code >= 4100 && code <= 4199 ? STOP_TEXT_OTHER : STOP_TEXT_CLOSED);
  }

  /* Full jitter: anywhere between 0 and the exponential ceiling, so that many clients dropped at the same moment
     (a server restart) do not come back at the same moment. */
  function backoffDelay(attempt) {
    return Math.floor(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, attempt)));
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function validPosition(pos) {
    return pos && typeof pos.offset === "number" && typeof pos.epoch === "string" && pos.epoch !== "" ? pos : null;
  }

  function loadPosition(channel) {
    try {
      var raw = window.sessionStorage.getItem(STORAGE_PREFIX + channel);
      return validPosition(raw ? JSON.parse(raw) : null);
    } catch (e) {
      return null;
    }
  }

  function savePosition(channel, pos) {
    try {
      window.sessionStorage.setItem(STORAGE_PREFIX + channel, JSON.stringify(pos));
    } catch (e) { /* storage may be full or disabled; memory still has it */ }
  }

  function connect(options) {
    var opts = options || {};
    var cb = {};
    ["onEvent", "onAck", "onError", "onReload", "onNotice", "onPresence", "onTyping", "onSubscribed", "onStatus"]
      .forEach(function (name) { cb[name] = typeof opts[name] === "function" ? opts[name] : noop; });
    var remember = opts.remember === true;
    var positions = {};     // channel -> {offset, epoch}: the last event seen (or where the subscription started)
    var channels = [];      // the channels to (re)subscribe after every "welcome"
    var pending = {};       // clientMsgId -> {clientMsgId, channel, text}: publishes not yet acknowledged
    var requests = {};      // request id -> {type, channel, clientMsgId} on the current connection
    var typingSent = {};
    var nextId = 1;
    var ws = null;
    var ready = false;
    var attempt = 0;
    var timer = null;
    var stopped = false;
    var lastFrameAt = Date.now();
    var welcomedAt = 0;

    function status(state, text, code) {
      cb.onStatus(state, text || (STATUS_TEXT[state] ? _(STATUS_TEXT[state]) : ""), code || 0);
    }

    function keep(channel, pos) {
      positions[channel] = {offset: pos.offset, epoch: pos.epoch};
      if (remember) { savePosition(channel, positions[channel]); }
    }

    function send(frame) {
      if (ws && ready && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify(frame));
        return true;
      }
      return false;
    }

    function sendSubscribe(channel) {
      var id = nextId++;
      var frame = {type: "subscribe", id: id, channel: channel};
      var pos = positions[channel];
      if (pos) { frame.since = {offset: pos.offset, epoch: pos.epoch}; }
      requests[id] = {type: "subscribe", channel: channel};
      send(frame);
    }

    function sendPublish(p) {
      var id = nextId++;
      requests[id] = {type: "publish", channel: p.channel, clientMsgId: p.clientMsgId};
      send({type: "publish", id: id, channel: p.channel, client_msg_id: p.clientMsgId, body: {text: p.text}});
    }

    function open() {
      clearTimeout(timer);
      timer = null;
      if (stopped) { return; }
      status(attempt === 0 ? "connecting" : "reconnecting");
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket;
      try {
        socket = new WebSocket(scheme + window.location.host + "/ws");
      } catch (e) {
        schedule();
        return;
      }
      ws = socket;
      ready = false;
      welcomedAt = 0;
      lastFrameAt = Date.now();
      socket.onmessage = function (msg) {
        if (socket !== ws) { return; }
        lastFrameAt = Date.now();
        var frame;
        try { frame = JSON.parse(msg.data); } catch (e) { return; }
        if (frame && typeof frame.type === "string") { handle(frame); }
      };
      socket.onclose = function (ev) {
        if (socket !== ws) { return; }
        drop();
        closed(ev.code);
      };
    }

    function drop() {
      if (welcomedAt && Date.now() - welcomedAt >= STABLE_AFTER_MS) { attempt = 0; }
      ws = null;
      ready = false;
      welcomedAt = 0;
      requests = {};
    }

    function closed(code) {
      if (stopped) { return; }
      if (closeAction(code) === "reconnect") {
        schedule(code);
      } else {
        stop(stopText(code), code);
      }
    }

    function schedule(code) {
      if (stopped || timer) { return; }
      var delay = backoffDelay(attempt);
      attempt += 1;
      status(navigator.onLine === false ? "offline" : "reconnecting", "", code);
      timer = setTimeout(open, delay);
    }

    function stop(text, code) {
      stopped = true;
      clearTimeout(timer);
      clearInterval(heartbeat);
      if (ws) { try { ws.close(1000); } catch (e) { /* already closing */ } }
      ws = null;
      ready = false;
      status("stopped", text, code);
    }

    function forget(channel) {
      var i = channels.indexOf(channel);
      if (i >= 0) { channels.splice(i, 1); }
      delete positions[channel];
    }

    function handle(frame) {
      var req = typeof frame.id === "number" ? requests[frame.id] || null : null;
      if (req) { delete requests[frame.id]; }
      switch (frame.type) {
        case "welcome":
          ready = true;
          welcomedAt = Date.now();
          status("connected");
          channels.forEach(sendSubscribe);
          Object.keys(pending).forEach(function (k) { sendPublish(pending[k]); });
          break;
        case "subscribed":
          // With "since" the replayed events follow and subscribed.position is the last of them: keep our own
          // position, or they would all look seen already. Without one, the subscription starts here.
          if (!positions[frame.channel] && frame.position) { keep(frame.channel, frame.position); }
          cb.onSubscribed(frame);
          break;
        case "event":
          var pos = positions[frame.channel];
          if (pos && frame.offset <= pos.offset) { return; }  // seen already (offsets of a new epoch are larger)
          keep(frame.channel, frame);
          cb.onEvent(frame);
          break;
        case "reload":
          if (frame.position) { keep(frame.channel, frame.position); }
          cb.onReload(frame);
          break;
        case "ack":
          var done = pending[frame.client_msg_id] || null;
          delete pending[frame.client_msg_id];
          cb.onAck(frame, done);
          break;
        case "error":
          if (req && req.type === "publish") {
            var p = pending[req.clientMsgId] || null;
            if (p && ERROR_CODES[frame.code] === "retry") {
              var publishedOn = ws;  // a new connection resends every pending publish after its "welcome" itself
              setTimeout(function () { if (pending[p.clientMsgId] && ws === publishedOn && ready) { sendPublish(p); } },
                Math.max(RETRY_MIN_MS, frame.retry_after_ms || 1000));
              return;
            }
            if (p) { delete pending[p.clientMsgId]; }
            cb.onError(frame, p, req);
            return;
          }
          if (req && req.type === "subscribe" && ERROR_CODES[frame.code] === "retry") {
            var channel = req.channel;
            var subscribedOn = ws;
            setTimeout(function () {
              if (ws === subscribedOn && ready && channels.indexOf(channel) >= 0) { sendSubscribe(channel); }
            },
              Math.max(RETRY_MIN_MS, frame.retry_after_ms || 1000));
            return;
          }
          if (req && req.type === "subscribe" && frame.code === 4202) {
            forget(req.channel);  // refused: do not ask again on the next reconnect
          }
          cb.onError(frame, null, req);
          break;
        case "presence":
          cb.onPresence(frame);
          break;
        case "typing":
          cb.onTyping(frame);
          break;
        case "notice":
          cb.onNotice(frame);
          break;
        default:
          break;  // pong, unsubscribed and unknown types
      }
    }

    function goOffline() {
      if (!ws) { return; }
      var socket = ws;
      drop();
      try { socket.close(4000); } catch (e) { /* closing anyway */ }
      closed(1006);
    }

    window.addEventListener("offline", goOffline);
    window.addEventListener("online", function () {
      if (!stopped && !ws) {
        attempt = 0;
        clearTimeout(timer);
        timer = null;
        open();
      }
    });
    var heartbeat = setInterval(function () {
      if (!ws || !ready) { return; }
      if (Date.now() - lastFrameAt > SILENCE_LIMIT_MS) {
        goOffline();
        return;
      }
      send({type: "ping", id: nextId++});
    }, PING_EVERY_MS);

    (opts.channels || []).forEach(function (c) {
      var name = typeof c === "string" ? c : c.name;
      if (!name || channels.indexOf(name) >= 0) { return; }
      var since = validPosition(typeof c === "object" ? c.since : null) || (remember ? loadPosition(name) : null);
      if (since) { positions[name] = {offset: since.offset, epoch: since.epoch}; }
      channels.push(name);
    });
    open();

    return {
      publish: function (channel, text) {
        var p = {clientMsgId: newId(), channel: channel, text: text};
        pending[p.clientMsgId] = p;
        if (ready) { sendPublish(p); }
        return p.clientMsgId;
      },
      typing: function (channel) {
        var now = Date.now();
        if (now - (typingSent[channel] || 0) < TYPING_EVERY_MS) { return; }
        if (send({type: "typing", channel: channel})) { typingSent[channel] = now; }
      },
      subscribe: function (channel, since) {
        var pos = validPosition(since);
        if (pos) { positions[channel] = {offset: pos.offset, epoch: pos.epoch}; }
        if (channels.indexOf(channel) < 0) { channels.push(channel); }
        if (ready) { sendSubscribe(channel); }
      },
      unsubscribe: function (channel) {
        forget(channel);
        send({type: "unsubscribe", id: nextId++, channel: channel});
      },
      resubscribe: function (channel) {
        if (channels.indexOf(channel) < 0) { channels.push(channel); }
        if (send({type: "unsubscribe", id: nextId++, channel: channel})) { sendSubscribe(channel); }
      },
      position: function (channel) { return positions[channel] || null; },
      connected: function () { return !!(ws && ready && ws.readyState === WebSocket.OPEN); },
      close: function () { stop(""); },
      dropForTest: goOffline
    };
  }

  window.GemLive = {
    connect: connect,
    closeAction: closeAction,
    stopText: stopText,
    backoffDelay: backoffDelay,
    CLOSE_CODES: CLOSE_CODES,
    ERROR_CODES: ERROR_CODES,
    supported: "WebSocket" in window
  };
}());
