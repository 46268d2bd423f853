/* Idle lock (Setagaya 別紙1-1 §14: 離席時にパスワードロック). After the idle time the page is
   blurred, the server is told (every other request of this sign-in is then refused until
   unlocked, so a reload does not get round it), and the password unlocks the same page:
   nothing typed or scrolled is lost. Alerts keep sounding while locked. */
(function () {
  "use strict";
  var limit = parseInt(document.body.getAttribute("data-idle-lock-ms") || "0", 10);
  var overlay = document.getElementById("fd-lock"), page = document.getElementById("page");
  if (!limit || !overlay) return;
  var form = document.getElementById("fd-lock-form"), error = document.getElementById("fd-lock-error");
  var input = form.querySelector("input[name=password]");
  var last = Date.now(), locked = false;

  function activity() { if (!locked) last = Date.now(); }
  ["mousemove", "mousedown", "keydown", "scroll", "touchstart", "wheel"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  function lock() {
    if (locked) return;
    locked = true;
    page.classList.add("fd-locked"); overlay.hidden = false; error.hidden = true;
    fetch("/console/lock", { method: "POST", credentials: "same-origin" });
    input.value = ""; input.focus();
  }
  function unlocked() {
    locked = false; last = Date.now();
    overlay.hidden = true; page.classList.remove("fd-locked");
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new URLSearchParams(); data.set("password", input.value);
    fetch("/console/unlock", { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.ok) { unlocked(); return; }
        if (r.status === 401 || r.status === 403) {
          return r.json().then(function (j) { error.textContent = j.detail || "パスワードが違います。"; error.hidden = false; input.value = ""; input.focus(); });
        }
      });
  });
  setInterval(function () { if (!locked && Date.now() - last >= limit) lock(); }, Math.min(1000, limit / 4));
  window.FrontdoorLock = { lock: lock };
})();
