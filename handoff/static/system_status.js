/* The 「システムの一部が停止しています」 banner: polls /healthz (issue 12). */
(function () {
  "use strict";
  var PARTS = { database: "データベース", redis: "リアルタイム中継（Redis）", worker: "バックグラウンド処理（ワーカー）" };
  var INTERVAL_MS = 15000;
  function show(down) {
    var box = document.getElementById("system-status");
    if (!box) return;
    box.hidden = down.length === 0;
    box.querySelector("[data-parts]").textContent = down.length ? "（" + down.join("、") + "）" : "";
  }
  function check() {
    fetch("/healthz", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (report) {
        show(Object.keys(PARTS).filter(function (k) { return report[k] && report[k] !== "ok"; }).map(function (k) { return PARTS[k]; }));
      })
      .catch(function () { show(["サーバーとの接続"]); });
  }
  check();
  setInterval(check, INTERVAL_MS);
})();
