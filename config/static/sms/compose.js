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

  // Merge fields (K3) replaced by this person's and the sender's names (#merge-names, from the
  // server) before measuring: the count is of the text the person gets.
  var FIELD = /\{(first_name|last_name|staff_first_name|staff_last_name)\}/g;
  var NAMES = null;
  function merged(text) {
    if (!NAMES) { return text; }
    return text.replace(FIELD, function (_, name) { return NAMES[name] || ""; });
  }

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
      var m = measure(merged(area.value));
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
  // A template picker (K4) puts the chosen template's text in its textarea; the "input" event
  // lets that box's counter measure it.
  function wirePicker(picker) {
    var area = document.getElementById(picker.getAttribute("data-template-for"));
    picker.addEventListener("change", function () {
      var option = picker.options[picker.selectedIndex];
      if (area && option && option.getAttribute("data-body") !== null) {
        area.value = option.getAttribute("data-body");
        area.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  }

  // "Send at" (K5): with a time chosen, the button says Schedule and the note about a text
  // sent now (quiet hours) steps aside; the field's own help says what quiet hours do to it.
  function wireSendAt(field) {
    var input = field.querySelector("input");
    var buttons = input.form ? input.form.querySelectorAll("button[data-schedule-label]") : [];
    function update() {
      var later = input.value !== "";
      buttons.forEach(function (b) {
        b.textContent = b.getAttribute(later ? "data-schedule-label" : "data-send-label");
      });
      document.querySelectorAll("[data-when-now]").forEach(function (note) {
        note.hidden = later;
      });
    }
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tables = JSON.parse(document.getElementById("gsm7-tables").textContent);
    GSM_BASIC = tables.basic;
    GSM_EXTENDED = tables.extension;
    var names = document.getElementById("merge-names");
    if (names) { NAMES = JSON.parse(names.textContent); }
    document.querySelectorAll("[data-compose]").forEach(wire);
    document.querySelectorAll("select[data-template-for]").forEach(wirePicker);
    document.querySelectorAll("[data-send-at]").forEach(wireSendAt);
  });
})();
