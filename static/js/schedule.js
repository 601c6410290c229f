// The schedule form starts from the browser's own time zone (when the campaign has none of
// its own yet) and from tomorrow at 09:00.
(function () {
  "use strict";
  var form = document.querySelector(".schedule-form");
  if (!form) return;
  var zone = form.querySelector("select[name=time_zone]");
  if (form.hasAttribute("data-guess-zone")) {
    var browser = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var known = Array.prototype.some.call(zone.options, function (o) { return o.value === browser; });
    if (browser && known) zone.value = browser;
  }
  var date = form.querySelector("input[name=date]");
  var time = form.querySelector("input[name=time]");
  if (!date.value) {
    var tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    date.value = tomorrow.getFullYear() + "-" + pad(tomorrow.getMonth() + 1) + "-" + pad(tomorrow.getDate());
  }
  if (!time.value) time.value = "09:00";
})();
