/* Frontdoor resident chat, inside the widget's frame (served from Frontdoor's own origin,
 * loaded by widget.js on the host page). Keeping the chat in this frame keeps the session
 * token and the conversation out of the host page: its other scripts cannot read this
 * origin's storage or DOM (issue 12, shared devices).
 * Resident text is untrusted: it is only ever inserted with textContent.
 * Messages carry database ids; the chat keeps the highest id it has shown and asks the
 * server for everything after it when it reconnects, so a dropped connection loses nothing.
 * Unsent messages stay in a local outbox (with a client id the server de-duplicates on)
 * until the server acknowledges that they are stored.
 * Shared devices (library, care facility, family tablet): 「相談を終える」 ends the
 * conversation and forgets it on this device; after `data-idle-minutes` without use the
 * chat opens fresh (the old conversation stays with the counselors). */
(function () {
  "use strict";
  var root = document.getElementById("fd-chat");
  var tenant = root.getAttribute("data-tenant");
  var idleMs = parseInt(root.getAttribute("data-idle-minutes") || "30", 10) * 60000;
  var wsUrl = location.origin.replace(/^http/, "ws") + "/ws/" + encodeURIComponent(tenant);
  var key = "frontdoor:" + tenant + ":";
  var store = {
    get: function (k, d) { try { var v = localStorage.getItem(key + k); return v === null ? d : JSON.parse(v); } catch (e) { return d; } },
    set: function (k, v) { try { localStorage.setItem(key + k, JSON.stringify(v)); } catch (e) {} },
    forget: function () { ["session", "outbox", "active_at"].forEach(function (k) { try { localStorage.removeItem(key + k); } catch (e) {} }); }
  };
  // A long-idle device opens fresh: the next person does not see the last one's conversation.
  if (store.get("session", null) && Date.now() - store.get("active_at", 0) > idleMs) store.forget();
  function touch() { store.set("active_at", Date.now()); }
  function tellHost(type) { try { parent.postMessage({ frontdoor: type }, "*"); } catch (e) {} }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  var panel = el("section", "fd-panel fd-in-frame");
  panel.setAttribute("aria-label", "相談チャット");
  var head = el("div", "fd-head");
  head.appendChild(el("span", "fd-title", "相談チャット"));
  var bigBtn = el("button", "fd-large-toggle", "文字を大きく"); bigBtn.type = "button";
  var endBtn = el("button", "fd-end", "相談を終える"); endBtn.type = "button";
  var closeBtn = el("button", "fd-close", "閉じる"); closeBtn.type = "button";
  head.appendChild(bigBtn); head.appendChild(endBtn); head.appendChild(closeBtn);
  var status = el("div", "fd-status", "接続しています…");
  status.setAttribute("role", "status");
  var log = el("div", "fd-log"); log.setAttribute("aria-live", "polite");
  var form = el("form", "fd-form");
  var input = el("textarea"); input.rows = 2; input.setAttribute("aria-label", "メッセージ");
  input.placeholder = "ここに入力してください";
  var send = el("button", "fd-send", "送信"); send.type = "submit";
  form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(status); panel.appendChild(log); panel.appendChild(form);
  root.appendChild(panel);

  // Large text (issue 15): survives a reload with the right label, keeps the reader's place.
  function setLarge(on) {
    var fromBottom = log.scrollHeight - log.scrollTop;
    panel.classList.toggle("fd-large", on);
    bigBtn.textContent = on ? "文字を標準に" : "文字を大きく";
    bigBtn.setAttribute("aria-pressed", on ? "true" : "false");
    log.scrollTop = log.scrollHeight - fromBottom;
    tellHost(on ? "large" : "normal");  // the host's loader grows the frame itself on a desktop
  }
  setLarge(!!store.get("large", false));
  bigBtn.onclick = function () {
    var on = !panel.classList.contains("fd-large");
    store.set("large", on);
    setLarge(on);
  };
  // The host page's launcher opens the frame and says so; the frame's 閉じる hides it again.
  window.addEventListener("message", function (ev) {
    if (ev.source === parent && ev.data && ev.data.frontdoor === "open") { connect(); input.focus(); }
  });
  closeBtn.onclick = function () { tellHost("close"); };
  endBtn.onclick = function () {
    if (!confirm("相談を終えますか？この端末からは、これまでのやりとりが見えなくなります。")) return;
    if (ws && ws.readyState === 1 && ws.ready) ws.send(JSON.stringify({ type: "end" }));
    forgetHere();
  };

  var WHO = { bot: "自動応答", counselor: "相談員", system: "お知らせ" };
  var lastId = 0;  // per page: a reload replays the open conversation from the server
  var outbox = store.get("outbox", []);  // [{client_id, type, text|action, label}]
  var ws = null, retry = 0, started = false;

  function scroll() { log.scrollTop = log.scrollHeight; }

  // Short replies for elderly readers (issue 15): about five lines, then 「くわしく」.
  var SHORT_LINES = 5;
  function appendText(box, text, fold) {
    var lines = text.split("\n");
    if (!fold || lines.length <= SHORT_LINES + 1) { box.appendChild(document.createTextNode(text)); return; }
    var cut = SHORT_LINES;
    for (var i = SHORT_LINES; i >= 2; i--) { if (!lines[i - 1].trim()) { cut = i - 1; break; } }  // end at a paragraph
    box.appendChild(document.createTextNode(lines.slice(0, cut).join("\n")));
    var rest = el("span", "fd-more", "\n" + lines.slice(cut).join("\n")); rest.hidden = true;
    var more = el("button", "fd-more-toggle", "くわしく"); more.type = "button";
    more.setAttribute("aria-expanded", "false");
    more.onclick = function () { rest.hidden = false; more.remove(); };
    box.appendChild(rest); box.appendChild(more);
  }

  function showIntro(greeting, examples) {
    if (log.querySelector(".fd-intro")) return;
    var box = el("div", "fd-msg fd-bot fd-intro");
    box.appendChild(el("span", "fd-who", WHO.bot));
    box.appendChild(document.createTextNode(greeting));
    if (examples && examples.length) {
      var row = el("div", "fd-buttons fd-examples");
      examples.forEach(function (text) {
        var btn = el("button", null, text); btn.type = "button";
        btn.onclick = function () { queue({ type: "message", text: text }); };
        row.appendChild(btn);
      });
      box.appendChild(row);
    }
    log.insertBefore(box, log.firstChild);
  }

  function showMessage(m) {
    if (log.querySelector('[data-id="' + m.id + '"]')) return;
    var pending = m.author === "resident" ? log.querySelector(".fd-pending") : null;
    if (pending) pending.remove();
    var cls = m.author === "resident" ? "fd-resident" : "fd-" + m.author;
    var box = el("div", "fd-msg " + cls);
    box.setAttribute("data-id", m.id);
    if (WHO[m.author]) box.appendChild(el("span", "fd-who", WHO[m.author]));
    appendText(box, m.text, m.author === "bot");
    if (m.buttons && m.buttons.length) {
      var row = el("div", "fd-buttons");
      m.buttons.forEach(function (b) {
        var btn = el("button", null, b.label); btn.type = "button";
        btn.onclick = function () { queue({ type: "action", action: b.id, label: b.label }); };
        row.appendChild(btn);
      });
      box.appendChild(row);
    }
    log.appendChild(box);
    if (m.id > lastId) lastId = m.id;
    scroll();
  }

  function showPending(text, clientId) {
    var box = el("div", "fd-msg fd-resident fd-pending", text);
    box.setAttribute("data-client", clientId);
    box.style.opacity = "0.6";
    log.appendChild(box); scroll();
  }

  function showError(text) { var e = el("div", "fd-error", text); e.setAttribute("role", "alert"); log.appendChild(e); scroll(); }

  function uid() { return (Date.now().toString(36) + Math.random().toString(36).slice(2, 10)); }

  function forgetHere() {
    store.forget(); outbox = []; inflight = {}; lastId = 0;
    while (log.firstChild) log.removeChild(log.firstChild);
    log.appendChild(el("div", "fd-msg fd-system fd-ended", "相談を終えました。この端末からは、これまでのやりとりは見えません。ご相談はいつでもどうぞ。"));
    var old = ws; ws = null; started = false;
    if (old) { old.onclose = null; old.onmessage = null; old.close(); }
    setStatus("相談を終えました。", false);
  }

  function queue(item) {
    touch();
    if (!started) connect();
    item.client_id = uid();
    outbox.push(item); store.set("outbox", outbox);
    showPending(item.type === "action" ? item.label : item.text, item.client_id);
    flush();
  }

  // Each message is sent on its own and retried on its own with back-off until the server
  // says it is stored; only a message the server refuses for good leaves the outbox, and
  // then its text is shown back to the resident (never silently dropped, issue 12).
  var inflight = {};
  function flush() {
    if (!ws || ws.readyState !== 1 || !ws.ready) return;
    var now = Date.now();
    outbox.forEach(function (item) {
      if (inflight[item.client_id] || (item.next_at || 0) > now) return;
      inflight[item.client_id] = true;
      ws.send(JSON.stringify({ type: item.type, client_id: item.client_id, text: item.text, action: item.action, label: item.label }));
    });
  }

  function retryLater(item, code) {
    item.tries = (item.tries || 0) + 1;
    var delay = code === "rate_limited" ? 60000 : Math.min(60000, 1000 * Math.pow(2, item.tries));
    item.next_at = Date.now() + delay;
    store.set("outbox", outbox);
    setTimeout(flush, delay + 50);
  }

  function setStatus(text, offline) { status.textContent = text; status.classList.toggle("fd-offline", !!offline); }

  function connect() {
    if (started) return;
    started = true;
    open();
  }

  function hello(socket) {
    socket.send(JSON.stringify({ type: "hello", session: store.get("session", null), last_id: lastId }));
  }

  function open() {
    ws = new WebSocket(wsUrl);
    ws.onopen = function () { retry = 0; inflight = {}; hello(ws); };
    ws.onmessage = function (ev) {
      var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === "welcome") {
        store.set("session", m.session); ws.ready = true; touch();
        if (m.greeting) showIntro(m.greeting, m.examples);
        setStatus("つながっています。24時間受け付けています。");
        flush();
      } else if (m.type === "ack") {
        delete inflight[m.client_id];
        var done = log.querySelector('.fd-pending[data-client="' + m.client_id + '"]'); if (done) done.classList.add("fd-stored");
        outbox = outbox.filter(function (i) { return i.client_id !== m.client_id; }); store.set("outbox", outbox);
      } else if (m.type === "message") {
        showMessage(m);
      } else if (m.type === "error") {
        var failed = m.client_id ? outbox.filter(function (i) { return i.client_id === m.client_id; })[0] : null;
        if (failed) {
          delete inflight[failed.client_id];
          if (m.retry) {
            retryLater(failed, m.code);
          } else {
            outbox = outbox.filter(function (i) { return i !== failed; }); store.set("outbox", outbox);
            var pending = log.querySelector('.fd-pending[data-client="' + failed.client_id + '"]'); if (pending) pending.remove();
            var shown = failed.type === "action" ? failed.label : failed.text;
            if (shown) showError("送れなかったメッセージ：" + shown);
            if (failed.text && !input.value) input.value = failed.text;  // nothing typed is lost
          }
        } else if (!ws.ready && m.code === "rate_limited") {
          var again = ws; setTimeout(function () { if (ws === again && again.readyState === 1) hello(again); }, 60000);
        }
        showError(m.message);
      }
    };
    ws.onclose = function () {
      ws = null; inflight = {};
      setStatus("接続が切れました。自動でつなぎ直します…", true);
      var delay = Math.min(10000, 500 * Math.pow(2, retry++));
      setTimeout(open, delay);
    };
  }

  form.onsubmit = function (ev) {
    ev.preventDefault();
    var text = input.value;
    if (!text.trim()) { showError("メッセージが空です。文字を入力してから送信してください。"); return; }
    input.value = "";
    queue({ type: "message", text: text });
  };
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  });

  if (store.get("session", null)) { tellHost("active"); connect(); }
})();
