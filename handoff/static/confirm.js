/* Forms with data-confirm ask once before they are sent (no inline handlers, so a strict
   Content-Security-Policy can forbid them). */
document.addEventListener("submit", function (ev) {
  "use strict";
  var message = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) ev.preventDefault();
}, true);
