/* Carnet — the little JavaScript HTML and htmx cannot do.
 *
 * CSP-safe: no eval, no inline handlers, no HTML built from strings. Every text
 * shown here comes from data-* attributes or elements rendered (and translated)
 * by the server. Passkey ceremonies live in passkeys.js.
 *
 * What the platform does, it does without us: htmx disables buttons while a request
 * runs (hx-disabled-elt), fragments fade in with CSS (.htmx-added), confirmation
 * panels are popovers, the server names a document after its file, and what depends
 * on the page and the session sits on #page, which boosted navigation replaces.
 *
 *   1. service worker registration (never on kiosks)
 *   2. idle timer: warning, countdown, logout on expiry
 *   3. htmx: boosted error pages, focus after boosted navigation, failed requests said
 *   4. upload progress bar and size check
 *   5. print buttons, PDFs printed in one tap   6. documents: selected count   7. copy buttons (share code)
 */
(function () {
  "use strict";

  /* The page's wrapper: read afresh each time, since boosted navigation replaces it. */
  function page() {
    return document.getElementById("page") || document.body;
  }
  function pageData(name) {
    return page().getAttribute(name) || "";
  }

  /* 1. Service worker ---------------------------------------------------- */
  if ("serviceWorker" in navigator) {
    if (page().classList.contains("kiosk")) {
      // A public kiosk keeps nothing: remove any worker a previous page installed.
      navigator.serviceWorker.getRegistrations().then(function (regs) {
        regs.forEach(function (r) { r.unregister(); });
      }).catch(function () {});
      if (window.caches) {
        caches.keys().then(function (names) {
          names.forEach(function (n) { caches.delete(n); });
        }).catch(function () {});
      }
    } else {
      window.addEventListener("load", function () {
        navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
      });
    }
  }

  /* A new version of the app (a new worker waiting, or one that took over from another tab):
   * the next navigation loads the whole page, so styles, scripts and markup all come from the
   * same version; never new markup swapped into an old shell (sw.js says how updates go). */
  var shellOutdated = false;
  function newVersionWaiting() {
    if (!("serviceWorker" in navigator) || !navigator.serviceWorker.controller) return Promise.resolve(null);
    return navigator.serviceWorker.getRegistration().then(function (reg) {
      return reg && reg.waiting ? reg.waiting : null;
    }).catch(function () { return null; });
  }
  var ownTakeOver = false;
  if ("serviceWorker" in navigator) {
    var controller = navigator.serviceWorker.controller;
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      // Another tab switched versions (not the first install): follow at the next click.
      if (controller && !ownTakeOver) shellOutdated = true;
      controller = navigator.serviceWorker.controller;
    });
  }
  function loadWhole(url) {
    window.location.assign(url);
  }
  document.addEventListener("htmx:confirm", function (e) {
    var d = e.detail;
    var elt = d && d.elt;
    // boosted links only: the navigations that keep this page's <head>
    if (!elt || elt.tagName !== "A" || elt.hasAttribute("hx-get") || d.verb !== "get") return;
    if (shellOutdated) {
      e.preventDefault();
      loadWhole(d.path);
      return;
    }
    e.preventDefault();
    newVersionWaiting().then(function (waiting) {
      if (!waiting) { d.issueRequest(true); return; }
      ownTakeOver = true;
      navigator.serviceWorker.addEventListener("controllerchange", function () { loadWhole(d.path); }, { once: true });
      waiting.postMessage("carnet:take-over");
    });
  });

  /* 1b. The emergency card kept on this device (static/sw.js; blueprints/card). Never on a
   * kiosk. The carnet_card cookie only tells the server, at logout, that this device keeps the
   * card: logging out then leaves it (and only it) in place. */
  var CARD_CACHE = "carnet-emergency-card";
  function askWorker(message) {
    return navigator.serviceWorker.ready.then(function (reg) {
      return new Promise(function (done) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (e) { done(!!(e.data && e.data.ok)); };
        reg.active.postMessage(message, [channel.port2]);
      });
    });
  }
  function cardKept() {
    return window.caches ? caches.has(CARD_CACHE).catch(function () { return false; }) : Promise.resolve(false);
  }
  function markDevice(kept) {
    document.cookie = kept ? "carnet_card=1; path=/; max-age=31536000; samesite=lax"
      : "carnet_card=; path=/; max-age=0; samesite=lax";
  }
  function showCardState(kept, failed) {
    var box = document.getElementById("card-device");
    if (box) {
      var state = box.querySelector(".card-device-state");
      if (state) state.textContent = box.getAttribute(failed ? "data-failed-text" : kept ? "data-kept-text" : "data-not-kept-text");
      box.querySelectorAll("[data-card-keep]").forEach(function (b) { b.hidden = kept; });
      box.querySelectorAll("[data-card-remove]").forEach(function (b) { b.hidden = !kept; });
    }
    document.querySelectorAll("[data-card-kept-notice]").forEach(function (n) { n.hidden = !kept; });
  }
  function syncCard() {
    if (page().classList.contains("kiosk") || !("serviceWorker" in navigator) || !window.caches) return;
    cardKept().then(function (kept) {
      markDevice(kept);
      showCardState(kept, false);
      if (kept && pageData("data-card-refresh")) askWorker("carnet:card-refresh").catch(function () {});
    });
  }
  syncCard();
  document.addEventListener("htmx:load", function (e) {
    if (e.target && e.target.querySelector && e.target.querySelector("#card-device, [data-card-kept-notice]")) syncCard();
  });
  document.addEventListener("click", function (e) {
    var keep = e.target.closest && e.target.closest("[data-card-keep]");
    var remove = e.target.closest && e.target.closest("[data-card-remove]");
    if (!keep && !remove) return;
    (keep ? askWorker("carnet:card-keep") : askWorker("carnet:card-remove")).then(function (ok) {
      return cardKept().then(function (kept) {
        markDevice(kept);
        showCardState(kept, keep && !ok);
      });
    }).catch(function () { showCardState(false, true); });
  });

  /* CSRF token, from the header htmx sends (#page hx-headers). */
  function csrfToken() {
    try {
      return JSON.parse(pageData("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  /* 2. Idle timer ---------------------------------------------------------
   * Only real user input resets it: htmx polling and other background requests
   * never do (SECURITY.md, sessions). Time is measured with Date.now() so a
   * throttled background tab still expires on time. The settings are read from
   * #page on every tick because boosted navigation (login!) can change them. */
  var lastInput = Date.now();
  var expired = false;
  var currentIdle = null;

  function idleSeconds() {
    return parseInt(pageData("data-idle-seconds"), 10) || 0;
  }

  /* On a kiosk (#page data-present-url) real input also tells the server, at most every
   * 20 s: its 2-minute idle rule must count the person reading, not only their clicks. */
  var toldServerAt = Date.now();
  function tellServer() {
    var url = pageData("data-present-url");
    if (!url || !window.fetch || Date.now() - toldServerAt < 20000) return;
    toldServerAt = Date.now();
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() }
    }).catch(function () {});
  }

  function onInput() {
    if (expired) return;
    lastInput = Date.now();
    tellServer();
    var warning = document.getElementById("idle-warning");
    if (warning && !warning.hidden) warning.hidden = true;
  }
  ["pointerdown", "keydown", "touchstart", "wheel", "input"].forEach(function (type) {
    document.addEventListener(type, onInput, { capture: true, passive: true });
  });
  // Mouse movement counts too, at most once a second.
  document.addEventListener("pointermove", function (e) {
    if (e.pointerType === "mouse" && Date.now() - lastInput > 1000) onInput();
  }, { capture: true, passive: true });

  function formatSeconds(s) {
    var m = Math.floor(s / 60);
    var r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  function expire() {
    expired = true;
    var warning = document.getElementById("idle-warning");
    if (warning) {
      var text = document.getElementById("idle-warning-text");
      var msg = warning.getAttribute("data-expired-text");
      if (text && msg) text.textContent = msg;
      warning.hidden = false;
    }
    var go = function () {
      var url = pageData("data-expired-url");
      if (url) window.location.replace(url);
      else window.location.reload();
    };
    // End the session on the server as well (its answer clears site data), then leave.
    var logoutUrl = pageData("data-logout-url");
    if (!logoutUrl || !window.fetch) {
      go();
      return;
    }
    var done = false;
    var finish = function () { if (!done) { done = true; go(); } };
    var data = new FormData();
    data.append("csrf_token", csrfToken());
    fetch(logoutUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      redirect: "manual",
      keepalive: true
    }).then(finish, finish);
    window.setTimeout(finish, 3000);
  }

  /* Before warning or ending, ask the server (a passive request: it does not extend the
   * session): activity in another tab of the same session counts, and a session the
   * server already ended sends this tab to the login page. */
  var asking = false;
  var askedAt = 0;
  function askServer() {
    var url = pageData("data-status-url");
    if (!url || !window.fetch) return false;
    asking = true;
    askedAt = Date.now();
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        asking = false;
        if (!s.authenticated) { expired = true; window.location.reload(); return; }
        var serverLastInput = Date.now() - (idleSeconds() - s.idle_remaining) * 1000;
        if (serverLastInput > lastInput) {
          lastInput = serverLastInput;
          var warning = document.getElementById("idle-warning");
          if (warning) warning.hidden = true;
        }
      }, function () { asking = false; });
    return true;
  }

  function tick() {
    var idle = idleSeconds();
    if (expired) return;
    if (idle !== currentIdle) {   // new page or new session: start afresh
      currentIdle = idle;
      lastInput = Date.now();
    }
    if (!idle) return;
    var left = Math.max(0, Math.ceil(idle - (Date.now() - lastInput) / 1000));
    var countdown = document.getElementById("idle-countdown");
    if (countdown) countdown.textContent = formatSeconds(left);
    // A kiosk warns a full minute before (its idle limit is 2 minutes).
    var warnBefore = page().classList.contains("kiosk") ? Math.min(60, Math.floor(idle / 2))
      : Math.min(60, Math.max(10, Math.floor(idle / 4)));
    var warning = document.getElementById("idle-warning");
    if (asking) return;
    if (left <= warnBefore && Date.now() - askedAt >= 15000 && askServer()) return;
    if (left <= 0) {
      expire();
      return;
    }
    if (warning && left <= warnBefore) {
      var seconds = document.getElementById("idle-warning-seconds");
      if (seconds) seconds.textContent = String(left);
      warning.hidden = false;
    }
  }
  tick();
  window.setInterval(tick, 1000);
  document.addEventListener("visibilitychange", tick);

  // A page restored from the back/forward cache may show data from a session
  // that has since ended: ask the server again.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && idleSeconds() > 0) window.location.reload();
  });

  /* 3. htmx ---------------------------------------------------------------- */
  // A boosted link or form that answers a full error page (404, 403, 500...) shows
  // that page, as it would without htmx; 401 is handled below (reload to log in).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (!d || !d.boosted || !d.xhr || d.xhr.status < 400 || d.xhr.status === 401) return;
    if (typeof d.serverResponse !== "string" || !/<body[\s>]/i.test(d.serverResponse)) return;
    d.shouldSwap = true;
    d.isError = false;
  });

  // After a boosted navigation, put focus where a keyboard or screen reader
  // user expects it: the first invalid field, otherwise the main content.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (!e.detail || !e.detail.boosted || e.target !== document.body) return;
    lastInput = Date.now();
    var target = document.querySelector("main [aria-invalid=true]") || document.getElementById("main");
    if (target) target.focus({ preventScroll: !target.matches("[aria-invalid=true]") });
  });

  // After a plain htmx swap that brought more of a list, focus its first new item (the
  // fragment marks it with data-focus-after-swap): keyboard users go on from there.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (!e.detail || e.detail.boosted) return;
    var target = document.querySelector("[data-focus-after-swap]");
    if (!target) return;
    target.removeAttribute("data-focus-after-swap");
    target.focus();
  });

  // After a fragment swap (a refused form, an inline edit, an added row), focus must not
  // fall to <body>: a refused form (422) puts it on its first invalid field (the error
  // summary, role="alert", is announced); otherwise, when the focused element was replaced,
  // on the new content's first field, heading or the content itself.
  document.addEventListener("htmx:afterSettle", function (e) {
    var d = e.detail;
    if (!d || d.boosted || !d.target) return;
    var refused = d.xhr && d.xhr.status === 422;
    var lost = !document.activeElement || document.activeElement === document.body || !document.activeElement.isConnected;
    if (!refused && !lost) return;
    var box = d.target.isConnected ? d.target : (d.target.id && document.getElementById(d.target.id));
    if (!box) box = document.getElementById("main");
    if (!box) return;
    var target = box.querySelector("[aria-invalid=true]") || box.querySelector("[data-error-summary]");
    if (!target && lost) {
      target = box.querySelector("[autofocus], input:not([type=hidden]):not([disabled]), select, textarea") ||
        box.querySelector("h1, h2, h3") || box;
      if (!target.matches("input, select, textarea, button, a[href], [tabindex]")) target.setAttribute("tabindex", "-1");
    }
    if (target) target.focus();
  });

  // A search or filter that replaced its results says how many it found.
  document.addEventListener("htmx:afterSettle", function (e) {
    var d = e.detail;
    var box = d && d.target && (d.target.isConnected ? d.target : d.target.id && document.getElementById(d.target.id));
    var status = document.querySelector("[data-results-status]");
    if (!box || !status || !box.hasAttribute("data-results-count")) return;
    status.textContent = box.getAttribute("data-results-count");
  });

  // Failed requests must not fail silently.
  function showRequestError(offline) {
    var requestError = document.getElementById("request-error");
    if (!requestError) return;
    var text = requestError.querySelector("p");
    var msg = requestError.getAttribute(offline ? "data-offline-text" : "data-error-text");
    if (text && msg) text.textContent = msg;
    requestError.hidden = false;
  }
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (xhr && xhr.status === 401) {
      window.location.reload();  // session over: the server shows the login page
      return;
    }
    showRequestError(false);
  });
  document.addEventListener("htmx:sendError", function () { showRequestError(!navigator.onLine); });
  document.addEventListener("htmx:timeout", function () { showRequestError(!navigator.onLine); });
  document.addEventListener("htmx:beforeRequest", function () {
    var requestError = document.getElementById("request-error");
    if (requestError) requestError.hidden = true;
  });

  /* Polling ([data-poll]: unread counts, a conversation's new messages) only while the tab
   * is seen: a background tab sends nothing, and asks at once when it comes back. The views
   * polled are passive on the server: they never extend the session. */
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-poll")) e.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-poll]").forEach(function (elt) { window.htmx.trigger(elt, "poll-now"); });
  });

  /* 4. Upload progress ([data-upload-progress] inside an htmx upload form) ---
   * The bar follows htmx's xhr progress events; a file larger than the form's
   * data-max-bytes is refused before it is sent; a 413 answer shows the server's
   * message in the form ([data-upload-error]) instead of a generic error. */
  function uploadBar(elt) {
    return elt && elt.querySelector ? elt.querySelector("progress[data-upload-progress]") : null;
  }
  document.addEventListener("htmx:xhr:progress", function (e) {
    var bar = uploadBar(e.target);
    if (!bar || !e.detail || !e.detail.lengthComputable || !e.detail.total) return;
    bar.hidden = false;
    bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var bar = uploadBar(e.detail && e.detail.elt);
    if (bar) { bar.hidden = true; bar.value = 0; }
  });
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input || input.type !== "file" || !input.form) return;
    var max = parseInt(input.form.getAttribute("data-max-bytes") || "", 10);
    if (!max) return;
    var tooLarge = Array.prototype.some.call(input.files || [], function (f) { return f.size > max; });
    input.setCustomValidity(tooLarge ? (input.form.getAttribute("data-too-large-text") || "") : "");
    if (tooLarge) input.reportValidity();
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (!d || !d.xhr || d.xhr.status !== 413 || !uploadBar(d.elt)) return;
    var box = d.elt.querySelector("[data-upload-error]");
    if (!box) return;
    d.shouldSwap = true;
    d.isError = false;
    d.target = box;
    d.swapOverride = "innerHTML";
  });

  /* 5. Print buttons: shown only where this script runs, since printing needs it. */
  function showPrintButtons() {
    document.querySelectorAll("[data-print-button]").forEach(function (b) { b.hidden = false; });
  }
  showPrintButtons();
  document.addEventListener("htmx:load", showPrintButtons);
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print-button]")) window.print();
  });

  /* 5b. A PDF printed in one tap (a kiosk's "Ma synthèse" and emergency card): a form marked
   * data-print-frame sends its answer into a hidden same-origin frame; once a PDF has loaded
   * there, the frame's print() opens the print dialog over the page, and no PDF tab stays open
   * for the next person. Any other answer (the screen with an error) is sent again without the
   * frame, so that it shows. data-print-frame holds the words said while the PDF is made. */
  var printFrame = null;
  function printStatus(form, text) {
    var status = form && form.querySelector("[data-print-status]");
    if (status) status.textContent = text;
  }
  function printFrameLoaded() {
    var form = printFrame.carnetForm, doc;
    if (!form) return;
    try { doc = printFrame.contentDocument; } catch (err) { doc = null; }
    if (!doc || doc.URL === "about:blank") return;
    printFrame.carnetForm = null;
    form.removeAttribute("aria-busy");
    printStatus(form, "");
    if (doc.contentType === "application/pdf") {
      printFrame.contentWindow.focus();
      printFrame.contentWindow.print();
    } else {
      form.removeAttribute("target");
      form.removeAttribute("data-print-frame");
      form.submit();
    }
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-print-frame]")) return;
    if (!printFrame) {
      printFrame = document.createElement("iframe");
      printFrame.name = "carnet-print";
      printFrame.className = "print-frame";
      printFrame.title = form.getAttribute("data-print-frame");
      printFrame.tabIndex = -1;
      printFrame.setAttribute("aria-hidden", "true");
      printFrame.addEventListener("load", printFrameLoaded);
      document.body.appendChild(printFrame);
    }
    printFrame.carnetForm = form;
    form.target = printFrame.name;
    form.setAttribute("aria-busy", "true");
    printStatus(form, form.getAttribute("data-print-frame"));
  }, true);

  /* 6. Documents list: the bulk bar says how many documents are ticked. Texts come from the
   * bar's data-count-* attributes (translated, plural included); "{n}" is the number. */
  function showBulkCount() {
    var label = document.querySelector("[data-bulk-count]");
    var form = label && label.closest("form");
    if (!form) return;
    var n = form.querySelectorAll('input[name="ids"]:checked').length;
    var text = n === 0 ? label.dataset.countNone : n === 1 ? label.dataset.countOne
      : (label.dataset.countMany || "").replace("{n}", String(n));
    if (text && label.textContent !== text) label.textContent = text;
  }
  showBulkCount();
  document.addEventListener("htmx:load", showBulkCount);
  document.addEventListener("change", function (e) {
    if (e.target && e.target.name === "ids") showBulkCount();
  });

  /* 7. Copy buttons ([data-copy-text]): shown where the clipboard can be written. A copy
   * (the button, or the person's own Ctrl+C inside .share-code) sets the hidden input named
   * by data-copy-target, which the "Done" request then carries: no need to ask again. */
  function showCopyButtons() {
    if (!navigator.clipboard || !window.isSecureContext) return;
    document.querySelectorAll("[data-copy-text]").forEach(function (b) { b.hidden = false; });
  }
  function markCopied(selector) {
    var flag = selector && document.querySelector(selector);
    if (flag) flag.value = "1";
  }
  showCopyButtons();
  document.addEventListener("htmx:load", showCopyButtons);
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy-text]");
    if (!btn) return;
    navigator.clipboard.writeText(btn.dataset.copyText).then(function () {
      markCopied(btn.dataset.copyTarget);
      var label = btn.querySelector("span");
      if (label && btn.dataset.copiedLabel) label.textContent = btn.dataset.copiedLabel;
    }).catch(function () {});
  });
  document.addEventListener("copy", function () {
    var sel = window.getSelection && window.getSelection();
    var node = sel && sel.anchorNode;
    var code = node && (node.nodeType === 1 ? node : node.parentElement);
    if (code && code.closest && code.closest(".share-code")) markCopied("#share-copied");
  });

  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-dismiss]")) {
      var box = e.target.closest("[data-dismiss]").closest(".toast");
      if (box) box.hidden = true;
    }
  });
})();
