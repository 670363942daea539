// The cohort page: the live counter on the longest merged text, and the
// progress page's counts, polled every 2 s until everything has left.
"use strict";
(function () {
  var FIELD = /\{(first_name|last_name|staff_first_name|staff_last_name)\}/g;

  function wireCompose(area) {
    // The longest first and last names of the recipients and the sender's own names come from
    // the server (#longest-names): the counter measures the longest text the cohort can make.
    var names = JSON.parse(document.getElementById("longest-names").textContent);
    var box = area.closest(".field");
    var max = parseInt(area.getAttribute("data-max-length"), 10);
    var out = {
      chars: box.querySelector("[data-count=characters]"),
      enc: box.querySelector("[data-count=encoding]"),
      seg: box.querySelector("[data-count=segments]"),
      why: box.querySelector("[data-count=reason]")
    };
    function update() {
      var merged = area.value.replace(FIELD, function (_, name) { return names[name] || ""; });
      var m = window.smsMeasure(merged);
      out.chars.textContent = m.characters + " / " + max + " characters";
      out.enc.textContent = m.encoding;
      out.seg.textContent = m.segments + (m.segments === 1 ? " segment" : " segments");
      var over = m.characters - max;
      out.why.textContent = over > 0
        ? "Too long for the longest name: the limit is " + max + " characters; remove " + over + "."
        : "";
      out.chars.classList.toggle("over", over > 0);
    }
    area.addEventListener("input", update);
    update();
    // The template picker is compose.js's: it fills the textarea and fires "input".
    var form = area.form;
    form.setAttribute("data-ready", "");
    form.addEventListener("submit", function (event) {
      // One send per click: a second click while the first is on its way sends nothing more.
      var button = event.submitter;
      if (button && button.value === "send") {
        if (form.getAttribute("data-sending")) { event.preventDefault(); return; }
        form.setAttribute("data-sending", "1");
      }
    });
  }

  function wireProgress(card) {
    var url = card.getAttribute("data-progress-url");
    var state = document.getElementById("progress-state");
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { setTimeout(poll, 2000); return; }
          Object.keys(data).forEach(function (key) {
            var cell = card.querySelector("[data-progress=" + key + "]");
            if (cell) { cell.textContent = data[key]; }
          });
          // Nothing left to cancel once every scheduled text has left.
          var waiting = card.querySelector("[data-while-scheduled]");
          if (waiting && !data.scheduled) { waiting.hidden = true; }
          // Nor once every text waiting for its number's pace has left.
          var paced = card.querySelector("[data-while-paced]");
          if (paced && !data.pace) { paced.hidden = true; }
          if (data.finished) {
            card.setAttribute("data-finished", "true");
            state.textContent = data.finished_words;
            // Delivery reports still move sent to delivered: look again, less often.
            setTimeout(poll, 5000);
          } else if (data.scheduled && !data.queued) {
            // Only texts waiting for their time (maybe days): look every 15 s.
            setTimeout(poll, 15000);
          } else {
            setTimeout(poll, 2000);
          }
        })
        .catch(function () { setTimeout(poll, 2000); });
    }
    setTimeout(poll, card.getAttribute("data-finished") === "true" ? 5000 : 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.getElementById("cohort-body");
    if (area && area.tagName === "TEXTAREA") { wireCompose(area); }
    var card = document.getElementById("progress");
    if (card && card.hasAttribute("data-progress-url")) { wireProgress(card); }
  });
})();
