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
  var last = Date.now(), locked = false, shared = 0;
  var ACTIVE_KEY = "frontdoor.activity", LOCK_KEY = "frontdoor.locked";

  // Tabs of one sign-in share one lock: activity in any tab keeps them all open, and a lock
  // or an unlock in one tab shows in the others.
  function activity() {
    if (locked) return;
    last = Date.now();
    if (last - shared > 2000) { shared = last; try { localStorage.setItem(ACTIVE_KEY, String(last)); } catch (e) {} }
  }
  function lastActivity() {
    var other = 0;
    try { other = parseInt(localStorage.getItem(ACTIVE_KEY) || "0", 10); } catch (e) {}
    return Math.max(last, other);
  }
  window.addEventListener("storage", function (ev) {
    if (ev.key !== LOCK_KEY) return;
    if (ev.newValue === "1") lock(true); else if (locked) unlocked(true);
  });
  ["mousemove", "mousedown", "keydown", "scroll", "touchstart", "wheel"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  function lock(fromOtherTab) {
    if (locked) return;
    locked = true;
    page.classList.add("fd-locked"); overlay.hidden = false; error.hidden = true;
    if (!fromOtherTab) {
      fetch("/console/lock", { method: "POST", credentials: "same-origin", headers: FrontdoorCsrf.headers() });
      try { localStorage.setItem(LOCK_KEY, "1"); } catch (e) {}
    }
    input.value = ""; input.focus();
  }
  function unlocked(fromOtherTab) {
    locked = false; last = Date.now();
    overlay.hidden = true; page.classList.remove("fd-locked");
    if (!fromOtherTab) { try { localStorage.setItem(LOCK_KEY, "0"); localStorage.setItem(ACTIVE_KEY, String(last)); } catch (e) {} }
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new URLSearchParams(); data.set("password", input.value);
    fetch("/console/unlock", { method: "POST", body: data, credentials: "same-origin", headers: Object.assign({ Accept: "application/json" }, FrontdoorCsrf.headers()) })
      .then(function (r) {
        if (r.ok) { unlocked(false); return; }
        if (r.status === 401 || r.status === 403) {
          return r.json().then(function (j) { error.textContent = j.detail || "パスワードが違います。"; error.hidden = false; input.value = ""; input.focus(); });
        }
      });
  });
  setInterval(function () { if (!locked && Date.now() - lastActivity() >= limit) lock(false); }, Math.min(1000, limit / 4));
  // This page was served, so this sign-in is not locked (a locked one gets /console/locked).
  if (location.pathname !== "/console/locked") { try { localStorage.setItem(LOCK_KEY, "0"); } catch (e) {} }
  window.FrontdoorLock = { lock: lock };
})();
