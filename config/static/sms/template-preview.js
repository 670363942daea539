// Live preview of the reply-notification email (C5): placeholders filled with sample values, and
// a template that would be refused at Save (an unknown placeholder, a format, a stray brace)
// flagged under its field as it is typed, in the words the server uses.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var data = document.getElementById("preview-sample");
  if (!data) { return; }
  var sample = JSON.parse(data.textContent);
  var names = Object.keys(sample);
  var known = names.map(function (n) { return "{" + n + "}"; }).join(", ");
  function render(template) {
    // One pass, as Python's str.format reads it: {{ and }} are literal braces.
    return template.replace(/\{\{|\}\}|\{(\w*)\}/g, function (whole, name) {
      if (whole === "{{") { return "{"; }
      if (whole === "}}") { return "}"; }
      return Object.prototype.hasOwnProperty.call(sample, name) ? sample[name] : whole;
    });
  }
  function broken(reason) {
    return "The template does not render: " + reason + ". Write literal braces as {{ and }}.";
  }
  // The template's fields as Python's str.format reads them, or a syntax error's words.
  function fields(template) {
    var found = [];
    var i = 0;
    while (i < template.length) {
      var ch = template[i];
      if (ch === "}") {
        if (template[i + 1] === "}") { i += 2; continue; }
        return { error: "Single '}' encountered in format string" };
      }
      if (ch !== "{") { i += 1; continue; }
      if (template[i + 1] === "{") { i += 2; continue; }
      if (i + 1 === template.length) { return { error: "Single '{' encountered in format string" }; }
      var j = i + 1;
      while (j < template.length && ":!{}".indexOf(template[j]) === -1) { j += 1; }
      if (j === template.length) { return { error: "expected '}' before end of string" }; }
      if (template[j] === "{") { return { error: "unexpected '{' in field name" }; }
      var name = template.slice(i + 1, j);
      var extra = false;
      if (template[j] !== "}") {
        // A format spec or conversion, which may nest braces: read to the matching one.
        var depth = 1;
        while (j < template.length && depth > 0) {
          j += 1;
          if (template[j] === "{") { depth += 1; } else if (template[j] === "}") { depth -= 1; }
        }
        if (depth > 0) { return { error: "expected '}' before end of string" }; }
        extra = true;
      }
      found.push({ name: name, extra: extra });
      i = j + 1;
    }
    return { fields: found };
  }
  // What the server's template_validate would say at Save, or "".
  function problem(template) {
    var read = fields(template);
    if (read.error) { return broken(read.error); }
    for (var k = 0; k < read.fields.length; k += 1) {
      var name = read.fields[k].name;
      if (names.indexOf(name) === -1) {
        return "Unknown placeholder {" + name + "}. Available placeholders: " + known + ".";
      }
      if (read.fields[k].extra) {
        return "Placeholder {" + name + "} cannot have a format or conversion; write {" +
          name + "}.";
      }
    }
    return "";
  }
  var pairs = [["id_reply_notification_subject", "preview-subject"],
               ["id_reply_notification_body", "preview-body"]];
  pairs.forEach(function (pair) {
    var input = document.getElementById(pair[0]);
    var output = document.getElementById(pair[1]);
    if (!input || !output) { return; }
    // The message's place exists from the start, so screen readers announce what appears in it.
    var note = document.createElement("p");
    note.id = "problem-" + pair[0];
    note.className = "template-problem";
    note.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", note);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
    var field = input.closest(".field");
    function update(typed) {
      var found = problem(input.value);
      var refused = field && field.querySelector("[role=alert]");
      if (refused && typed) {
        // The error Save answered is about the text before this edit: the live check takes over.
        refused.remove();
        refused = null;
      }
      note.textContent = refused ? "" : found;
      if (found) { input.setAttribute("aria-invalid", "true"); }
      else { input.removeAttribute("aria-invalid"); }
      output.textContent = render(input.value);
    }
    input.addEventListener("input", function () { update(true); });
    update(false);
  });
});
