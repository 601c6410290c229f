// Previews of a message: the desktop/mobile width toggle, and in the editors the live preview
// that renders the sources as they are typed (debounced) for a chosen contact. A source with
// errors shows the errors, next to their fields and above the preview, never a result.
(function () {
  "use strict";

  document.querySelectorAll(".segmented").forEach(function (group) {
    var section = group.closest("section, aside");
    var frame = section && section.querySelector("[data-preview-frame]");
    if (!frame) return;
    group.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-width]");
      if (!button) return;
      group.querySelectorAll("button[data-width]").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
      frame.setAttribute("data-width", button.getAttribute("data-width"));
    });
  });

  var pane = document.querySelector(".preview-pane");
  var form = document.querySelector("[data-content-form]");
  if (!pane || !form) return;

  var DELAY = 400;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var slot = randomSlot();
  var sent = 0;
  var shown = 0;
  var timer = null;
  var search = pane.querySelector("[data-contact-search]");
  var contactSelect = pane.querySelector("[data-contact]");
  var listSelect = pane.querySelector("[data-contact-list]");
  var state = pane.querySelector("[data-preview-state]");
  var errorBox = pane.querySelector("[data-preview-error]");
  var result = pane.querySelector("[data-preview-result]");
  var subject = pane.querySelector("[data-preview-subject]");
  var text = pane.querySelector("[data-preview-text]");
  var frame = pane.querySelector("[data-preview-html]");
  var PART_LABELS = { subject: "Subject", html: "HTML", text: "Text", layout: "Layout" };

  function randomSlot() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  function value(name) {
    var element = form.elements.namedItem(name);
    return element && element.value !== undefined ? element.value : "";
  }

  function describe(problem) {
    var where = "line " + problem.line + (problem.column ? ", column " + problem.column : "");
    return where + ": " + problem.message;
  }

  function render() {
    var body = new FormData();
    body.append("slot", slot);
    body.append("kind", pane.getAttribute("data-kind"));
    ["subject", "html", "text", "layout", "name"].forEach(function (name) {
      body.append(name, value(name));
    });
    body.append("contact", contactSelect.value);
    body.append("campaign", pane.getAttribute("data-campaign") || "");
    var number = ++sent;
    state.textContent = "Rendering…";
    fetch(pane.getAttribute("data-preview"), {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (number < shown) return;  // an answer to an older request arrived late
        shown = number;
        show(data, number);
      })
      .catch(function () {
        if (number === sent) state.textContent = "The preview is unavailable: no answer from the server.";
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(render, DELAY);
  }

  function show(data, number) {
    fieldProblems("error", data.problems || {});
    if (data.ok) {
      fieldProblems("warning", data.warnings || {});
      errorBox.hidden = true;
      result.hidden = false;
      subject.textContent = data.subject;
      text.textContent = data.text;
      frame.src = data.html_url + "?v=" + number;
      state.textContent = "Up to date";
      return;
    }
    // Errors replace the result: a stale preview beside a broken source would mislead.
    result.hidden = true;
    frame.src = "about:blank";
    subject.textContent = "";
    text.textContent = "";
    errorBox.replaceChildren();
    var heading = document.createElement("strong");
    heading.textContent = "Not rendered";
    errorBox.appendChild(heading);
    var items = document.createElement("ul");
    Object.keys(data.problems || {}).forEach(function (field) {
      data.problems[field].forEach(function (problem) {
        var item = document.createElement("li");
        item.textContent = (PART_LABELS[field] || field) + ", " + describe(problem);
        items.appendChild(item);
      });
    });
    if (data.render_error) {
      var item = document.createElement("li");
      item.textContent = data.render_error;
      items.appendChild(item);
    }
    if (data.form_errors) {
      var invalid = document.createElement("li");
      invalid.textContent = "Some values could not be read: " + Object.keys(data.form_errors).join(", ");
      items.appendChild(invalid);
    }
    errorBox.appendChild(items);
    errorBox.hidden = false;
    state.textContent = "";
  }

  // The errors (or warnings) under each field now say what the live check found. A source
  // with errors is not checked for warnings, so those stay as they were until it is fixed.
  function fieldProblems(kind, problems) {
    form.querySelectorAll("[data-problems-for]").forEach(function (list) {
      list.querySelectorAll("li." + kind).forEach(function (item) { item.remove(); });
      var found = problems[list.getAttribute("data-problems-for")] || [];
      var before = kind === "error" ? list.firstChild : null;  // errors first
      found.forEach(function (problem) {
        var item = document.createElement("li");
        item.className = "problem " + kind;
        item.setAttribute("data-line", String(problem.line));
        item.textContent = describe(problem);
        list.insertBefore(item, before);
      });
    });
  }

  // Contacts to preview for: found by the start of their address, on the chosen list (the
  // template editor) or on the campaign's target lists (the campaign editor).
  var searchTimer = null;
  var searched = 0;

  function targetLists() {
    if (listSelect) return listSelect.value ? [listSelect.value] : [];
    return Array.prototype.map.call(
      form.querySelectorAll("input[name=lists]:checked"),
      function (box) { return box.value; }
    );
  }

  function findContacts() {
    var params = new URLSearchParams({ q: search.value.trim() });
    targetLists().forEach(function (id) { params.append("list", id); });
    var number = ++searched;
    fetch(pane.getAttribute("data-contacts") + "?" + params.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (number !== searched) return;
        var chosen = contactSelect.value;
        while (contactSelect.options.length > 1) contactSelect.remove(1);
        data.contacts.forEach(function (contact) {
          var label = contact.email + (contact.name ? " — " + contact.name : "");
          contactSelect.add(new Option(label, String(contact.id)));
        });
        if (!data.contacts.length && search.value.trim()) {
          var none = new Option("No contact's address starts with “" + search.value.trim() + "”", "");
          none.disabled = true;
          contactSelect.add(none);
        }
        var keep = Array.prototype.some.call(contactSelect.options, function (option) {
          return option.value === chosen && !option.disabled;
        });
        var next = keep ? chosen : "";
        if (search.value.trim() && data.contacts.length) next = String(data.contacts[0].id);
        if (next !== contactSelect.value) {
          contactSelect.value = next;
          render();
        }
      });
  }

  search.addEventListener("input", function () {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(findContacts, 250);
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();
  });
  contactSelect.addEventListener("change", render);
  if (listSelect) listSelect.addEventListener("change", findContacts);
  form.addEventListener("input", later);
  form.addEventListener("change", function (event) {
    if (event.target.name === "lists") findContacts();
    later();
  });
  findContacts();
  render();
})();
