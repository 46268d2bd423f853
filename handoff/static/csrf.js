/* CSRF token for every state-changing form on console and dashboard pages (issue 12).
 * The token comes from <meta name="csrf-token">; every POST form gets it as a hidden field
 * when submitted (so forms added later need nothing), and FrontdoorCsrf.headers() gives
 * fetch() calls the X-CSRF-Token header. Also: <select data-autosubmit> submits its form
 * (inline handlers are blocked by the Content-Security-Policy). */
var FrontdoorCsrf = (function () {
  "use strict";
  function token() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }
  function stamp(form) {
    if (!form || (form.method || "").toLowerCase() !== "post") return;
    var field = form.querySelector('input[name="csrf_token"]');
    if (!field) { field = document.createElement("input"); field.type = "hidden"; field.name = "csrf_token"; form.appendChild(field); }
    field.value = token();
  }
  document.addEventListener("submit", function (ev) { stamp(ev.target); }, true);
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form"), stamp);
    Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (s) {
      s.addEventListener("change", function () { stamp(s.form); s.form.submit(); });
    });
  });
  return { token: token, stamp: stamp, headers: function () { return { "X-CSRF-Token": token() }; } };
})();
