// Template source editors: a line-number gutter beside each textarea, Tab that indents (Esc
// then Tab leaves the field, so the keyboard is never trapped), and the lines that have
// problems marked in the gutter. The problems come from the server's list under the field,
// which the live preview (preview.js) keeps up to date.
(function () {
  "use strict";
  var INDENT = "  ";

  document.querySelectorAll("[data-code-editor]").forEach(setUp);

  function setUp(box) {
    var area = box.querySelector("textarea");
    var gutter = box.querySelector(".gutter");
    var list = box.parentElement.querySelector("[data-problems-for]");
    var tabLeaves = false;

    function marks(kind) {
      var lines = {};
      if (!list) return lines;
      list.querySelectorAll("li." + kind + "[data-line]").forEach(function (item) {
        lines[item.getAttribute("data-line")] = true;
      });
      return lines;
    }

    function render() {
      var count = area.value.split("\n").length;
      var errors = marks("error");
      var warnings = marks("warning");
      var key = count + "|" + Object.keys(errors).join(",") + "|" + Object.keys(warnings).join(",");
      if (gutter.getAttribute("data-key") === key) return;
      gutter.setAttribute("data-key", key);
      var fragment = document.createDocumentFragment();
      for (var n = 1; n <= count; n++) {
        var line = document.createElement("span");
        line.textContent = String(n);
        if (errors[n]) line.className = "bad";
        else if (warnings[n]) line.className = "warn";
        fragment.appendChild(line);
      }
      gutter.replaceChildren(fragment);
      gutter.scrollTop = area.scrollTop;
    }

    area.addEventListener("input", render);
    area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
    area.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { tabLeaves = true; return; }
      var plainTab = event.key === "Tab" && !event.ctrlKey && !event.altKey && !event.metaKey;
      if (plainTab && !tabLeaves && !area.readOnly && !area.disabled) {
        event.preventDefault();
        indent(area, event.shiftKey);
      }
      tabLeaves = false;
    });
    if (list) new MutationObserver(render).observe(list, { childList: true, subtree: true });
    render();
  }

  // Replace the selection with `text`, keeping the browser's undo history where it can.
  function replaceSelection(area, text) {
    area.focus();
    if (!document.execCommand("insertText", false, text)) {
      area.setRangeText(text, area.selectionStart, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function indent(area, outdent) {
    var value = area.value;
    var start = area.selectionStart;
    var end = area.selectionEnd;
    var multiline = value.slice(start, end).indexOf("\n") >= 0;
    if (!outdent && !multiline) {
      replaceSelection(area, INDENT);
      return;
    }
    // Several lines (or Shift+Tab): indent or outdent each line the selection touches.
    var from = value.lastIndexOf("\n", start - 1) + 1;
    var to = value.indexOf("\n", end === start ? end : end - 1);
    if (to < 0) to = value.length;
    var lines = value.slice(from, to).split("\n").map(function (line) {
      if (!outdent) return INDENT + line;
      return line.replace(new RegExp("^ {1," + INDENT.length + "}"), "");
    });
    var text = lines.join("\n");
    area.setSelectionRange(from, to);
    replaceSelection(area, text);
    area.setSelectionRange(from, from + text.length);
  }
})();
