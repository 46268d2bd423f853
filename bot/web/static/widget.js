/* Frontdoor chat widget loader for a municipality's homepage.
 * Embed: <script src="https://HOST/widget.js" data-tenant="kashiwa"></script>
 * It adds the 「相談する」 button and a frame served from Frontdoor's own origin; the chat,
 * its session token and the conversation live in that frame, where the host page's other
 * scripts cannot read them (issue 12). Only "open" / "close" / "active" / "large" / "normal" cross the boundary. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-tenant]");
  var tenant = script.getAttribute("data-tenant");
  var origin = new URL(script.src, location.href).origin;
  var css = document.createElement("link");
  css.rel = "stylesheet"; css.href = origin + "/widget.css";
  document.head.appendChild(css);

  var launcher = document.createElement("button");
  launcher.className = "fd-launcher"; launcher.type = "button"; launcher.textContent = "相談する";
  launcher.setAttribute("aria-label", "相談チャットを開く");
  var frame = document.createElement("iframe");
  frame.className = "fd-frame"; frame.title = "相談チャット"; frame.hidden = true;
  frame.src = origin + "/widget/" + encodeURIComponent(tenant) + "/frame";
  document.body.appendChild(launcher); document.body.appendChild(frame);

  function show() { frame.hidden = false; launcher.hidden = true; frame.contentWindow.postMessage({ frontdoor: "open" }, origin); }
  launcher.onclick = show;
  window.addEventListener("message", function (ev) {
    if (ev.origin !== origin || ev.source !== frame.contentWindow || !ev.data) return;
    if (ev.data.frontdoor === "close") { frame.hidden = true; launcher.hidden = false; launcher.focus(); }
    if (ev.data.frontdoor === "active") show();  // a conversation in progress reopens with the page
    // Large text (issue 15) grows the panel on a desktop; the panel fills the frame, so the frame grows.
    if (ev.data.frontdoor === "large" || ev.data.frontdoor === "normal") frame.classList.toggle("fd-large", ev.data.frontdoor === "large");
  });
})();
