/* The offline page (static/offline.html, served by sw.js when a page cannot be reached, the
 * installed app started without a connection included): where this device keeps the holder's
 * emergency card (sw.js CARD_CACHE), the card is one tap away, as the first button. */
(function () {
  "use strict";
  var CARD_CACHE = "carnet-emergency-card";  // sw.js, blueprints/card/services.py: CACHE_NAME
  if (!window.caches) return;
  window.caches.has(CARD_CACHE).then(function (kept) {
    if (!kept) return;
    document.querySelectorAll("[data-card-offline]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("[data-card-offline-none]").forEach(function (el) { el.hidden = true; });
    // one main action: the card; trying again stays, second
    document.querySelectorAll("[data-retry]").forEach(function (el) {
      el.classList.remove("btn-primary");
      el.classList.add("btn-secondary");
    });
  });
})();
