// Live updates (V4): every open page asks the server every few seconds whether anything it shows
// changed ("changed since" cursor, one cheap query; 204 and no body when nothing did). When
// something did, the unread counts in the navigation change and the page's live parts
// (marked data-live-region: the inbox list, a conversation) are fetched again and swapped in.
// Hidden tabs do not poll; they catch up as soon as they are shown again.
"use strict";
(function () {
  var INTERVAL_MS = 2000;
  var nav = document.querySelector("[data-live-token]");
  if (!nav || !window.fetch) { return; }
  var url = nav.getAttribute("data-live-url");
  var token = nav.getAttribute("data-live-token");
  var cursor = nav.getAttribute("data-live-cursor");
  var timer = null;
  var busy = false;

  function showCount(which, value) {
    var badge = document.querySelector('[data-unread="' + which + '"]');
    if (!badge || value === null || value === undefined) { return; }
    badge.querySelector("[data-count]").textContent = String(value);
    badge.hidden = !value;
  }

  function refreshRegions() {
    var regions = document.querySelectorAll("[data-live-region]");
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        regions.forEach(function (region) {
          var replacement = region.id ? fresh.getElementById(region.id) : null;
          if (replacement) { region.replaceWith(document.importNode(replacement, true)); }
        });
        // The page was read after the change (opening a conversation marks it read): its
        // counts and cursor are the newest.
        var freshNav = fresh.querySelector("[data-live-token]");
        if (freshNav) {
          cursor = freshNav.getAttribute("data-live-cursor");
          ["own", "shared"].forEach(function (which) {
            var badge = fresh.querySelector('[data-unread="' + which + '"] [data-count]');
            if (badge) { showCount(which, Number(badge.textContent) || 0); }
          });
        }
      });
  }

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(url + "?since=" + encodeURIComponent(cursor), {
      credentials: "omit",
      cache: "no-store",
      headers: { "X-Live-Token": token }
    })
      .then(function (response) {
        if (response.status === 204) { return null; }
        if (response.status === 403) { stop(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (changed) {
        if (!changed) { return null; }
        cursor = changed.cursor;
        showCount("own", changed.unread);
        showCount("shared", changed.shared_unread);
        if (document.querySelector("[data-live-region]")) { return refreshRegions(); }
        return null;
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { busy = false; });
  }

  function stop() { if (timer) { window.clearInterval(timer); timer = null; } }

  timer = window.setInterval(poll, INTERVAL_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
})();
