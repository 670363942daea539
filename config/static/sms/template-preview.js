// Live preview of the reply-notification email (C5): placeholders filled with sample values.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var data = document.getElementById("preview-sample");
  if (!data) { return; }
  var sample = JSON.parse(data.textContent);
  function render(template) {
    // One pass, as Python's str.format reads it: {{ and }} are literal braces.
    return template.replace(/\{\{|\}\}|\{(\w*)\}/g, function (whole, name) {
      if (whole === "{{") { return "{"; }
      if (whole === "}}") { return "}"; }
      return Object.prototype.hasOwnProperty.call(sample, name) ? sample[name] : whole;
    });
  }
  var pairs = [["id_reply_notification_subject", "preview-subject"],
               ["id_reply_notification_body", "preview-body"]];
  pairs.forEach(function (pair) {
    var input = document.getElementById(pair[0]);
    var output = document.getElementById(pair[1]);
    if (!input || !output) { return; }
    function update() { output.textContent = render(input.value); }
    input.addEventListener("input", update);
    update();
  });
});
