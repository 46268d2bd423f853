/* Console live updates. Resident text is inserted with textContent only. */
var FrontdoorConsole = (function () {
  "use strict";
  var wsBase = location.origin.replace(/^http/, "ws");
  var WHO = { resident: "相談者", bot: "自動応答", counselor: "相談員", system: "お知らせ" };

  function socket(path, onEvent) {
    var retry = 0;
    function open() {
      var ws = new WebSocket(wsBase + path());
      ws.onmessage = function (ev) { try { onEvent(JSON.parse(ev.data)); } catch (e) {} };
      ws.onopen = function () { retry = 0; };
      ws.onclose = function (ev) {
        if (ev.code === 4401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname); return; }
        setTimeout(open, Math.min(10000, 500 * Math.pow(2, retry++)));
      };
    }
    open();
  }

  function queue() {
    // Banner, sounds and the tab title live in alerts.js, on every console page (issue 11).
    var body = document.getElementById("queue-rows");
    function refresh() {
      fetch("/console/queue/rows", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
        if (html !== null) body.innerHTML = html;  // server-rendered and escaped by Jinja
      });
      // 要確認: check-ins waiting for an answer, listed without an alarm (issue 14 §2).
      var checkIns = document.getElementById("check-in-rows");
      if (checkIns) {
        fetch("/console/check-ins/rows", { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
          checkIns.innerHTML = html;  // server-rendered and escaped by Jinja
        });
      }
    }
    socket(function () { return "/console/ws"; }, refresh);
    // One key opens the top case (issue 11), unless typing in a field.
    document.addEventListener("keydown", function (ev) {
      if ((ev.key !== "o" && ev.key !== "O") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement && document.activeElement.tagName)) return;
      var top = body.querySelector("tr[data-case] a.button");
      if (top) location.href = top.getAttribute("href");
    });
  }

  function caseView(caseId) {
    var list = document.getElementById("messages");
    function lastId() { var items = list.querySelectorAll("li[data-id]"); return items.length ? items[items.length - 1].getAttribute("data-id") : 0; }
    function add(m) {
      if (m.type === "undelivered") { markUndelivered(list.querySelector('li[data-id="' + m.id + '"]')); return; }
      if (m.type !== "message" || list.querySelector('li[data-id="' + m.id + '"]')) return;
      var li = document.createElement("li");
      li.className = "m-" + m.author; li.setAttribute("data-id", m.id);
      var who = document.createElement("span"); who.className = "who"; who.textContent = WHO[m.author] || "";
      var text = document.createElement("span"); text.className = "text"; text.textContent = m.text;
      li.appendChild(who); li.appendChild(text); list.appendChild(li);
      list.scrollTop = list.scrollHeight;
    }
    function markUndelivered(li) {
      if (!li || li.querySelector(".undelivered")) return;
      var note = document.createElement("span"); note.className = "undelivered";
      note.textContent = "未送信（相談者のLINEに届いていません。送り直すか、電話などで連絡してください）";
      li.appendChild(note);
    }
    list.scrollTop = list.scrollHeight;
    socket(function () { return "/console/ws/cases/" + caseId + "?after=" + lastId(); }, add);
    var form = document.getElementById("reply");
    if (!form) return;
    var canned = document.getElementById("canned"), area = form.querySelector("textarea");
    canned.onchange = function () { if (canned.value) { area.value = canned.value; area.focus(); } canned.value = ""; };
    form.onsubmit = function (ev) {
      ev.preventDefault();
      var text = area.value.trim(); if (!text) return;
      var data = new URLSearchParams(); data.set("text", text);
      fetch("/console/cases/" + caseId + "/messages", { method: "POST", body: data, credentials: "same-origin", headers: FrontdoorCsrf.headers() })
        .then(function (r) { if (!r.ok) return r.json().then(function (j) { alert(j.detail || "送信できませんでした。"); }); area.value = ""; });
    };
    area.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit(); });
  }

  return { queue: queue, caseView: caseView, socket: socket };
})();
