/* Carnet — the little JavaScript HTML cannot do.
 *
 * CSP-safe: no eval, no inline handlers, no HTML built from strings. Every text
 * shown here comes from data-* attributes or elements rendered (and translated)
 * by the server. Passkey ceremonies live in passkeys.js.
 *
 *   1. service worker registration (never on kiosks)
 *   2. idle timer: warning, countdown, logout on expiry
 *   3. submit buttons disabled while their htmx request runs
 *   4. in-page confirmation panels ([data-confirm-target])
 *   5. htmx niceties: fade-in of fragments, focus after boosted navigation,
 *      a visible message when a request fails
 *   6. upload progress bar and size check
 *   7. print buttons   8. copy buttons (share code)   9. documents: selected count
 */
(function () {
  "use strict";

  var body = document.body;
  var isKiosk = body.classList.contains("kiosk");

  /* 1. Service worker ---------------------------------------------------- */
  if ("serviceWorker" in navigator) {
    if (isKiosk) {
      // A public kiosk keeps nothing: remove any worker a previous page installed.
      navigator.serviceWorker.getRegistrations().then(function (regs) {
        regs.forEach(function (r) { r.unregister(); });
      }).catch(function () {});
    } else {
      window.addEventListener("load", function () {
        navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
      });
    }
  }

  /* CSRF token, from the header htmx sends (body hx-headers). */
  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  /* 2. Idle timer ---------------------------------------------------------
   * Only real user input resets it: htmx polling and other background requests
   * never do (SECURITY.md, sessions). Time is measured with Date.now() so a
   * throttled background tab still expires on time. The settings are read from
   * <body> on every tick because boosted navigation (login!) can change them. */
  var lastInput = Date.now();
  var expired = false;
  var currentIdle = null;

  function idleSeconds() {
    return parseInt(body.getAttribute("data-idle-seconds") || "", 10) || 0;
  }

  function onInput() {
    if (expired) return;
    lastInput = Date.now();
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
      var url = body.getAttribute("data-expired-url");
      if (url) window.location.replace(url);
      else window.location.reload();
    };
    // End the session on the server as well (its answer clears site data), then leave.
    var logoutUrl = body.getAttribute("data-logout-url");
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
    var url = body.getAttribute("data-status-url");
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
    var warnBefore = Math.min(60, Math.max(10, Math.floor(idle / 4)));
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

  /* 3. No double submits ------------------------------------------------- */
  var disabledBy = new WeakMap();

  function submitButtons(elt) {
    var form = elt.tagName === "FORM" ? elt : (elt.form || elt.closest("form"));
    var list = [];
    if (form) {
      list = Array.prototype.slice.call(form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]"));
      if (form.id) {
        list = list.concat(Array.prototype.slice.call(
          document.querySelectorAll('button[type=submit][form="' + form.id.replace(/["\\]/g, "") + '"]')));
      }
    } else if (elt.tagName === "BUTTON") {
      list = [elt];
    }
    return list;
  }

  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!elt || !elt.tagName) return;
    var buttons = submitButtons(elt).filter(function (b) { return !b.disabled; });
    buttons.forEach(function (b) {
      b.disabled = true;
      b.setAttribute("aria-busy", "true");
    });
    if (buttons.length) disabledBy.set(elt, buttons);
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    var buttons = elt && disabledBy.get(elt);
    if (!buttons) return;
    buttons.forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("aria-busy");
    });
    disabledBy.delete(elt);
  });

  /* 4. In-page confirmation ---------------------------------------------- */
  function setExpanded(panel, open) {
    if (!panel.id) return;
    document.querySelectorAll('[data-confirm-target="#' + panel.id + '"]').forEach(function (t) {
      if (t.hasAttribute("aria-expanded")) t.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function togglePanel(trigger) {
    var selector = trigger.getAttribute("data-confirm-target");
    var panel = null;
    try { panel = selector ? document.querySelector(selector) : null; } catch (err) { panel = null; }
    if (!panel) return;
    var open = panel.hidden;
    panel.hidden = !open;
    setExpanded(panel, open);
    if (open) {
      if (!panel.hasAttribute("tabindex")) panel.setAttribute("tabindex", "-1");
      panel.focus();
    } else if (panel.contains(trigger) || panel.contains(document.activeElement) || document.activeElement === body) {
      // Closed from inside: give focus back to the trigger that opened it.
      var opener = document.querySelector('[data-confirm-target="' + selector + '"][aria-expanded]');
      if (opener && !panel.contains(opener)) opener.focus();
    }
  }

  document.addEventListener("click", function (e) {
    var trigger = e.target.closest && e.target.closest("[data-confirm-target]");
    if (!trigger) return;
    e.preventDefault();
    togglePanel(trigger);
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var panel = document.activeElement && document.activeElement.closest && document.activeElement.closest(".confirm-panel");
    if (!panel || panel.hidden || !panel.id) return;
    var closer = panel.querySelector('[data-confirm-target="#' + panel.id + '"]');
    if (closer) togglePanel(closer);
  });

  /* 5. htmx niceties ----------------------------------------------------- */
  // htmx swaps only the children of <body> on boosted navigation. Carry over the
  // attributes that depend on the session (CSRF header, idle timeout, logout
  // URL, kiosk class) and the page language from the new page.
  var SYNCED = ["class", "hx-headers", "data-idle-seconds", "data-logout-url", "data-expired-url"];
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (!d || !d.boosted || typeof d.serverResponse !== "string") return;
    if (!/<body[\s>]/i.test(d.serverResponse)) return;
    var status = d.xhr ? d.xhr.status : 200;
    if (status === 401) return;  // handled below: reload to the login page
    if (status >= 400) {
      // A boosted link or form that answers a full error page (404, 403, 500...)
      // shows that page, as it would without htmx.
      d.shouldSwap = true;
      d.isError = false;
    }
    if (!d.shouldSwap) return;
    var doc = new DOMParser().parseFromString(d.serverResponse, "text/html");
    SYNCED.forEach(function (name) {
      var value = doc.body.getAttribute(name);
      if (value === null) body.removeAttribute(name);
      else body.setAttribute(name, value);
    });
    var lang = doc.documentElement.getAttribute("lang");
    if (lang) document.documentElement.setAttribute("lang", lang);
  });

  // Fragments fade in; whole boosted pages (children of body) do not.
  document.addEventListener("htmx:load", function (e) {
    var el = e.target;
    if (el && el.classList && el !== body && el.parentElement !== body) el.classList.add("fade-in");
  });

  // After a boosted navigation, put focus where a keyboard or screen reader
  // user expects it: the first invalid field, otherwise the main content.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (!e.detail || !e.detail.boosted || e.target !== body) return;
    lastInput = Date.now();
    var target = document.querySelector("main [aria-invalid=true]") || document.getElementById("main");
    if (target) target.focus({ preventScroll: !target.matches("[aria-invalid=true]") });
  });

  // Failed requests must not fail silently.
  var requestError = document.getElementById("request-error");
  function showRequestError(offline) {
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
    if (requestError) requestError.hidden = true;
  });
  /* 6. Upload progress ([data-upload-progress] inside an htmx upload form) ---
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
    prefillTitle(input);
  });
  /* The title starts as the file's name, readable ("compte_rendu-IRM.pdf" → "Compte rendu IRM"),
   * unless the person typed one; with several files the server numbers them. */
  function prefillTitle(input) {
    var title = input.form.querySelector("input[name=title]");
    var files = input.files || [];
    if (!title || (title.value && title.dataset.prefilled !== title.value)) return;
    var value = "";
    if (files.length === 1) {
      value = files[0].name.replace(/\.[A-Za-z0-9]{1,5}$/, "").replace(/_/g, " ")
        .replace(/(^|[^0-9])-|-(?![0-9])/g, "$1 ").replace(/\s+/g, " ").trim();
      value = value ? value.charAt(0).toUpperCase() + value.slice(1) : "";
    }
    title.value = value;
    title.dataset.prefilled = value;
  }
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

  /* 7. Print buttons: shown only where this script runs, since printing needs it. */
  function showPrintButtons() {
    document.querySelectorAll("[data-print-button]").forEach(function (b) { b.hidden = false; });
  }
  showPrintButtons();
  document.addEventListener("htmx:load", showPrintButtons);
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print-button]")) window.print();
  });

  /* 9. Documents list: the bulk bar says how many documents are ticked. Texts come from the
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

  /* 8. Copy buttons ([data-copy-text]): shown where the clipboard can be written. A copy
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
