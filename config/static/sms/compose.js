// Live character, encoding and segment count for the compose box (S5, C8).
// GSM-7 texts take 160 characters in one segment, 153 per segment when concatenated;
// anything outside GSM-7 is sent as UCS-2: 70 in one segment, 67 per segment when concatenated.
"use strict";
// The GSM-7 tables come from the server (messaging/segments.py, rendered as #gsm7-tables), so
// this count and the segments recorded with the text agree.
(function () {
  var GSM_BASIC = "";
  var GSM_EXTENDED = "";

  function measure(text) {
    var chars = Array.from(text);
    var septets = 0;
    var gsm = true;
    for (var i = 0; i < chars.length; i++) {
      var c = chars[i];
      if (GSM_BASIC.indexOf(c) !== -1) { septets += 1; }
      else if (GSM_EXTENDED.indexOf(c) !== -1) { septets += 2; }
      else { gsm = false; break; }
    }
    var units, single, multi;
    if (gsm) { units = septets; single = 160; multi = 153; }
    else { units = text.length; single = 70; multi = 67; } // UTF-16 code units
    var segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / multi);
    return { characters: chars.length, encoding: gsm ? "GSM-7" : "UCS-2", segments: segments };
  }
  window.smsMeasure = measure;

  function wire(box) {
    var area = box.querySelector("textarea");
    var max = parseInt(box.getAttribute("data-max-length"), 10);
    var out = {
      chars: box.querySelector("[data-count=characters]"),
      enc: box.querySelector("[data-count=encoding]"),
      seg: box.querySelector("[data-count=segments]"),
      why: box.querySelector("[data-count=reason]")
    };
    var button = box.querySelector("button[type=submit]");
    var undeliverable = button.hasAttribute("data-undeliverable");
    function update() {
      var m = measure(area.value);
      out.chars.textContent = m.characters + " / " + max + " characters";
      out.enc.textContent = m.encoding;
      out.seg.textContent = m.segments + (m.segments === 1 ? " segment" : " segments");
      var over = m.characters - max;
      var reason = "";
      if (over > 0) {
        reason = "Too long: the limit is " + max + " characters (smsMaxLength); remove " + over + ".";
      }
      out.why.textContent = reason;
      out.chars.classList.toggle("over", over > 0);
      // A text that could go nowhere (the page says why) is never sendable.
      button.disabled = undeliverable || over > 0 || m.characters === 0;
    }
    area.addEventListener("input", update);
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var tables = JSON.parse(document.getElementById("gsm7-tables").textContent);
    GSM_BASIC = tables.basic;
    GSM_EXTENDED = tables.extension;
    document.querySelectorAll("[data-compose]").forEach(wire);
  });
})();
