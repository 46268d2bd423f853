/* Closing a case (issue 11): the browser refuses an empty outcome or, for urgent and
   emergency cases, an empty note (the server refuses them too); then one confirmation. */
(function () {
  "use strict";
  var form = document.getElementById("close-form");
  if (!form) return;
  form.addEventListener("submit", function (ev) {
    var outcome = form.querySelector("select[name=outcome]").value;
    if (!window.confirm("「" + outcome + "」として、この案件の対応を終了します。よろしいですか？")) ev.preventDefault();
  });
})();
