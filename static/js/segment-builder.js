// The audience builder: a segment definition (campaigns/segments/definition.py) edited as
// rows of field / operator / value in nested all/any groups. The definition lives as JSON in
// the hidden field named by data-input; every edit rewrites it and fires "change" there, so
// the audience count (audience.js) follows. The fields, operators and the lists, campaigns
// and statuses a value may name come from the server (json_script named by data-catalog).
// With data-segment-select, choosing a saved segment there loads its conditions
// (json_script named by data-definitions).
(function () {
  "use strict";
  var root = document.querySelector("[data-segment-builder]");
  if (!root) return;
  var catalog = JSON.parse(document.getElementById(root.getAttribute("data-catalog")).textContent);
  var input = document.getElementById(root.getAttribute("data-input"));
  var readOnly = input.disabled;
  var fields = {};
  catalog.fields.forEach(function (field) { fields[field.value] = field; });
  var definition = parse(input.value);

  function parse(text) {
    try {
      var value = JSON.parse(text);
      if (value && Array.isArray(value.conditions)) return value;
    } catch (error) { /* an empty or broken field starts from nothing */ }
    return { match: "all", conditions: [] };
  }

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes[name];
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    if (readOnly && /^(INPUT|SELECT|BUTTON)$/.test(node.tagName)) node.disabled = true;
    return node;
  }

  function select(options, value, label, onChange) {
    var box = element("select", { "aria-label": label });
    var found = false;
    options.forEach(function (option) {
      var item = element("option", { value: String(option[0]), text: option[1] });
      if (String(option[0]) === String(value)) { item.selected = true; found = true; }
      box.appendChild(item);
    });
    // A list or campaign named by a saved segment but not offered (gone, or an old one).
    if (!found && value !== undefined && value !== null && value !== "") {
      var kept = element("option", { value: String(value), text: label + " #" + value });
      kept.selected = true;
      box.appendChild(kept);
    }
    box.addEventListener("change", function () { onChange(box.value); });
    return box;
  }

  function operator(condition) {
    var field = fields[condition.field];
    for (var i = 0; i < field.ops.length; i++) {
      if (field.ops[i].value === condition.op) return field.ops[i];
    }
    return field.ops[0];
  }

  function initialValue(kind) {
    var choices = catalog.choices[kind];
    if (choices) return choices.length ? choices[0][0] : null;
    if (kind === "range") return {};
    if (kind === "texts" || kind === "domains") return [];
    if (kind === "days") return 30;
    if (kind === "none") return undefined;
    return "";
  }

  function newCondition(fieldName) {
    var field = fields[fieldName];
    var condition = { field: fieldName, op: field.ops[0].value };
    if (fieldName === "attribute") condition.key = "";
    var value = initialValue(field.ops[0].kind);
    if (value !== undefined) condition.value = value;
    return condition;
  }

  function words(text) {
    return text.split(",").map(function (part) { return part.trim(); })
      .filter(function (part) { return part; });
  }

  function valueEditor(condition, kind) {
    var changed = function (value) { condition.value = value; save(); };
    if (kind === "none") return null;
    if (catalog.choices[kind]) {
      var numeric = kind !== "status";
      return select(catalog.choices[kind], condition.value, kind, function (value) {
        changed(numeric ? Number(value) : value);
      });
    }
    if (kind === "range") {
      var range = condition.value || {};
      var bound = function (name) {
        var box = element("input", { type: "number", step: "any", placeholder: name,
          "aria-label": name, value: range[name] === undefined ? "" : range[name] });
        box.addEventListener("input", function () {
          if (box.value === "") delete range[name]; else range[name] = Number(box.value);
          changed(range);
        });
        return box;
      };
      return element("span", { "class": "segment-range" },
        [bound("min"), element("span", { text: "and" }), bound("max")]);
    }
    var attributes = { "aria-label": "value" };
    if (kind === "date") attributes.type = "date";
    else if (kind === "days") { attributes.type = "number"; attributes.min = "1"; }
    else attributes.type = "text";
    var list = kind === "texts" || kind === "domains";
    if (list) attributes.placeholder = "comma, separated";
    var current = condition.value;
    attributes.value = list ? (current || []).join(", ") : (current === undefined ? "" : current);
    var box = element("input", attributes);
    box.addEventListener("input", function () {
      if (list) changed(words(box.value));
      else if (kind === "days") changed(box.value === "" ? null : Number(box.value));
      else changed(box.value);
    });
    return box;
  }

  function conditionRow(condition, siblings) {
    var row = element("div", { "class": "segment-condition" });
    var op = operator(condition);
    row.appendChild(select(catalog.fields.map(function (f) { return [f.value, f.label]; }),
      condition.field, "field", function (value) {
        siblings[siblings.indexOf(condition)] = newCondition(value);
        render();
      }));
    if (condition.field === "attribute") {
      var key = element("input", { type: "text", placeholder: "attribute name",
        "aria-label": "attribute name", value: condition.key || "" });
      key.addEventListener("input", function () { condition.key = key.value; save(); });
      row.appendChild(key);
    }
    row.appendChild(select(fields[condition.field].ops.map(function (o) { return [o.value, o.label]; }),
      op.value, "operator", function (value) {
        condition.op = value;
        var kind = operator(condition).kind;
        var initial = initialValue(kind);
        if (initial === undefined) delete condition.value; else condition.value = initial;
        render();
      }));
    var editor = valueEditor(condition, op.kind);
    if (editor) row.appendChild(editor);
    row.appendChild(removeButton(condition, siblings));
    return row;
  }

  function removeButton(node, siblings) {
    var button = element("button", { type: "button", "class": "link", text: "Remove" });
    button.addEventListener("click", function () {
      siblings.splice(siblings.indexOf(node), 1);
      render();
    });
    return button;
  }

  function groupBox(group, depth, siblings) {
    var box = element("div", { "class": "segment-group" });
    var head = element("div", { "class": "segment-head" }, [
      element("span", { text: depth === 1 ? "Contacts matching" : "matching" }),
      select([["all", "all"], ["any", "any"]], group.match || "all", "match", function (value) {
        group.match = value;
        save();
      }),
      element("span", { text: "of these conditions" + (depth === 1 ? " (none: everyone)" : "") }),
    ]);
    if (siblings) head.appendChild(removeButton(group, siblings));
    box.appendChild(head);
    group.conditions.forEach(function (node) {
      box.appendChild(node.conditions ? groupBox(node, depth + 1, group.conditions)
        : conditionRow(node, group.conditions));
    });
    var add = element("button", { type: "button", text: "Add condition" });
    add.addEventListener("click", function () {
      group.conditions.push(newCondition("attribute"));
      render();
    });
    var actions = element("div", { "class": "segment-actions" }, [add]);
    if (depth < catalog.max_depth) {
      var nest = element("button", { type: "button", text: "Add group" });
      nest.addEventListener("click", function () {
        group.conditions.push({ match: "any", conditions: [newCondition("opened")] });
        render();
      });
      actions.appendChild(nest);
    }
    box.appendChild(actions);
    return box;
  }

  function save() {
    input.value = JSON.stringify(definition);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function render() {
    root.replaceChildren(groupBox(definition, 1, null));
    save();
  }

  var chooser = root.hasAttribute("data-segment-select")
    ? document.getElementById(root.getAttribute("data-segment-select")) : null;
  if (chooser) {
    var saved = JSON.parse(document.getElementById(root.getAttribute("data-definitions")).textContent);
    chooser.addEventListener("change", function () {
      definition = parse(JSON.stringify(saved[chooser.value] || null));
      render();
    });
  }
  root.replaceChildren(groupBox(definition, 1, null));
})();
