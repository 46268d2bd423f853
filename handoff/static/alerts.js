/* Alerts on every console page (issue 11): a banner, a distinct sound for emergency and
   urgent cases, a desktop notification where permitted, and a tab title that starts with
   【緊急】 or 【至急】 while a case waits unaccepted (escalated and overdue ones too). The
   state comes from /console/alerts (ids and urgency only) whenever the live feed says
   something changed, and every 20 seconds (deadlines pass without an event). */
(function () {
  "use strict";
  var role = document.body.getAttribute("data-role");
  if (!role || role === "manager") return;
  var SOUND_KEY = "frontdoor.sound";
  var LEVEL = { emergency: { tag: "【緊急】", word: "緊急" }, urgent: { tag: "【至急】", word: "至急" } };
  var baseTitle = document.title.replace(/^【(緊急|至急)】/, "");
  var banner = document.getElementById("fd-alert"), bannerText = document.getElementById("fd-alert-text");
  var openLink = document.getElementById("fd-alert-open");
  var soundBox = document.getElementById("fd-sound"), soundButton = document.getElementById("fd-sound-enable");
  var seen = {};  // case id + state → already announced
  var lastPlayed = 0, REMIND_MS = 60000;  // an emergency still waiting sounds again every minute
  var audio = null;

  function soundWanted() { try { return localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; } }
  function ensureAudio() {
    if (!audio) { try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return null; } }
    if (audio.state === "suspended") audio.resume();
    return audio;
  }
  // Browsers keep audio silent until the page is touched. The choice is remembered (the
  // control stays away on every page); if an alert comes while the browser still holds the
  // sound back, the control comes back and says so, and any click wakes the sound up.
  var alerting = false;
  function showSoundControl() {
    if (!soundWanted()) { soundButton.textContent = "通知音を有効にする"; soundBox.hidden = false; return; }
    var blocked = alerting && (!audio || audio.state !== "running");
    soundButton.textContent = "音が止まっています。ここを押すと鳴ります";
    soundBox.hidden = !blocked;
  }
  soundButton.addEventListener("click", function () {
    try { localStorage.setItem(SOUND_KEY, "on"); } catch (e) {}
    ensureAudio();
    if (window.Notification && Notification.permission === "default") Notification.requestPermission();
    setTimeout(showSoundControl, 300);
  });
  ["click", "keydown"].forEach(function (name) {
    document.addEventListener(name, function () { if (soundWanted()) { ensureAudio(); setTimeout(showSoundControl, 300); } }, { capture: true });
  });
  if (soundWanted()) { ensureAudio(); }
  showSoundControl();

  // Emergency: three high, fast square-wave beeps. Urgent: two lower, longer sine tones.
  var PATTERNS = {
    emergency: { type: "square", freq: 1040, at: [0, 0.22, 0.44], len: 0.15 },
    urgent: { type: "sine", freq: 620, at: [0, 0.6], len: 0.4 }
  };
  function play(level) {
    document.documentElement.setAttribute("data-fd-last-sound", level);  // for tests and screen readers' logs
    if (!soundWanted()) return;
    var ctx = ensureAudio(); if (!ctx) return;
    var p = PATTERNS[level];
    p.at.forEach(function (t) {
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.type = p.type; osc.frequency.value = p.freq; osc.connect(gain); gain.connect(ctx.destination);
      gain.gain.value = 0.2; osc.start(ctx.currentTime + t); osc.stop(ctx.currentTime + t + p.len);
    });
  }
  function notify(level, text, caseId) {
    if (!window.Notification || Notification.permission !== "granted") return;
    try {
      var n = new Notification(LEVEL[level].tag + "相談員コンソール", { body: text, tag: "frontdoor-" + caseId, requireInteraction: level === "emergency" });
      n.onclick = function () { window.focus(); location.href = "/console/cases/" + caseId; };
    } catch (e) {}
  }

  function render(alerts) {
    alerting = alerts.length > 0;
    showSoundControl();
    if (!alerts.length) {
      banner.hidden = true; banner.removeAttribute("data-level");
      document.title = baseTitle;
      return;
    }
    var top = alerts[0], level = top.urgency;
    var counts = { emergency: 0, urgent: 0 }, late = 0;
    alerts.forEach(function (a) { counts[a.urgency] += 1; if (a.escalated || a.overdue) late += 1; });
    var parts = [];
    if (counts.emergency) parts.push("緊急の相談が" + counts.emergency + "件");
    if (counts.urgent) parts.push("至急の相談が" + counts.urgent + "件");
    var text = parts.join("、") + "、対応を待っています。" + (late ? "（うち" + late + "件は受付の期限を過ぎています）" : "");
    bannerText.textContent = text;
    openLink.href = "/console/cases/" + top.case_id;
    banner.setAttribute("data-level", level);
    banner.hidden = false;
    document.title = LEVEL[level].tag + baseTitle;
    var fresh = null;
    alerts.forEach(function (a) {
      var key = a.case_id + ":" + a.urgency + ":" + (a.escalated || a.overdue ? "late" : "new");
      if (!seen[key]) { seen[key] = true; if (!fresh || (fresh.urgency === "urgent" && a.urgency === "emergency")) fresh = a; }
    });
    if (fresh) { play(fresh.urgency); notify(fresh.urgency, text, fresh.case_id); lastPlayed = Date.now(); }
    else if (level === "emergency" && Date.now() - lastPlayed > REMIND_MS) { play("emergency"); lastPlayed = Date.now(); }
  }

  // Requests past their due time (issue 13): a quiet badge on the worklist link, no sound
  // (an absence notice is not an emergency); the worklist itself shows them first.
  function overdueRequests(n) {
    var link = document.querySelector('nav a[href="/console/requests"]');
    if (!link) return;
    var badge = link.querySelector(".fd-overdue");
    if (!n) { if (badge) badge.remove(); return; }
    if (!badge) { badge = document.createElement("span"); badge.className = "fd-overdue"; link.appendChild(badge); }
    badge.textContent = "期限切れ" + n;
  }

  // A change told while a fetch is on its way is fetched again when it lands: that fetch may
  // have been answered before the change. Dropped, an urgent case that arrived as the page
  // opened stayed silent until the next 20-second refresh.
  var pending = false, again = false;
  function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    fetch("/console/alerts", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { render(data.alerts); overdueRequests(data.requests_overdue || 0); } })
      .catch(function () {})
      .then(function () { pending = false; if (again) { again = false; refresh(); } });
  }

  var wsBase = location.origin.replace(/^http/, "ws"), retry = 0;
  function listen() {
    var ws = new WebSocket(wsBase + "/console/ws");
    ws.onopen = function () { retry = 0; refresh(); };
    ws.onmessage = refresh;
    ws.onclose = function () { setTimeout(listen, Math.min(10000, 500 * Math.pow(2, retry++))); };
  }
  listen();
  refresh();
  setInterval(refresh, 20000);
  window.FrontdoorAlerts = { refresh: refresh };
})();
