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

  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach(function (t) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.frequency.value = 880; osc.connect(gain); gain.connect(ctx.destination);
        gain.gain.value = 0.2; osc.start(ctx.currentTime + t); osc.stop(ctx.currentTime + t + 0.2);
      });
    } catch (e) {}
  }

  function queue() {
    var body = document.getElementById("queue-rows"), alertBox = document.getElementById("alert");
    function known() { return Array.prototype.map.call(body.querySelectorAll("tr[data-case]"), function (r) { return r.getAttribute("data-case"); }); }
    function refresh() {
      var before = known();
      fetch("/console/queue/rows", { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
        body.innerHTML = html;  // server-rendered and escaped by Jinja
        var fresh = Array.prototype.filter.call(body.querySelectorAll("tr[data-urgency='emergency'][data-status='waiting']"), function (r) {
          return before.indexOf(r.getAttribute("data-case")) < 0;
        });
        if (fresh.length) { alertBox.hidden = false; beep(); document.title = "【緊急】受付一覧"; }
      });
      // 要確認: check-ins waiting for an answer, listed without an alarm (issue 14 §2).
      var checkIns = document.getElementById("check-in-rows");
      if (checkIns) {
        fetch("/console/check-ins/rows", { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
          checkIns.innerHTML = html;  // server-rendered and escaped by Jinja
        });
      }
    }
    socket(function () { return "/console/ws"; }, function (ev) {
      if (ev.type === "escalation") { alertBox.hidden = false; alertBox.textContent = ev.message; beep(); }
      refresh();
    });
    document.addEventListener("click", function () { alertBox.hidden = true; document.title = "受付一覧"; });
  }

  function caseView(caseId) {
    var list = document.getElementById("messages");
    function lastId() { var items = list.querySelectorAll("li[data-id]"); return items.length ? items[items.length - 1].getAttribute("data-id") : 0; }
    function add(m) {
      if (m.type !== "message" || list.querySelector('li[data-id="' + m.id + '"]')) return;
      var li = document.createElement("li");
      li.className = "m-" + m.author; li.setAttribute("data-id", m.id);
      var who = document.createElement("span"); who.className = "who"; who.textContent = WHO[m.author] || "";
      var text = document.createElement("span"); text.className = "text"; text.textContent = m.text;
      li.appendChild(who); li.appendChild(text); list.appendChild(li);
      list.scrollTop = list.scrollHeight;
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

  return { queue: queue, caseView: caseView };
})();
