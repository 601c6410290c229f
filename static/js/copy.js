// Copy buttons: <button data-copy="element-id"> copies that element's text.
(function () {
  "use strict";

  function fallbackCopy(text) {
    // navigator.clipboard exists only on HTTPS and localhost; select-and-copy works elsewhere.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = document.execCommand("copy");
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent.trim();
    var copy = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); })
      : fallbackCopy(text);
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    copy.then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Select and copy by hand"; }
    );
    setTimeout(function () { button.textContent = label; }, 2000);
  });
})();
