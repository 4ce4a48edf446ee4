/* Passkey ceremonies: the only thing on these screens that HTML cannot do.
   Options come from the server as JSON; the result goes back as JSON with the CSRF header. */
(function () {
  "use strict";

  function b64uToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function csrfHeaders() {
    // HX-Current-URL as htmx sends it: a step-up confirmation brings the person back here.
    var h = { "Content-Type": "application/json", "Accept": "application/json", "HX-Current-URL": window.location.href };
    try { h["X-CSRFToken"] = JSON.parse(document.getElementById("page").getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) {}
    return h;
  }
  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin", headers: csrfHeaders(), body: body || "{}" })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { j._status = r.status; return j; }); });
  }

  function creationOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    json.challenge = b64uToBuf(json.challenge);
    json.user.id = b64uToBuf(json.user.id);
    (json.excludeCredentials || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
    return json;
  }
  function requestOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    json.challenge = b64uToBuf(json.challenge);
    (json.allowCredentials || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
    return json;
  }
  function credentialJSON(cred) {
    if (cred.toJSON) { try { return cred.toJSON(); } catch (e) {} }
    var r = cred.response, out = { id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}, response: {} };
    out.response.clientDataJSON = bufToB64u(r.clientDataJSON);
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64u(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64u(r.authenticatorData);
      out.response.signature = bufToB64u(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64u(r.userHandle);
    }
    return out;
  }

  function showError(box, text) {
    var el = box.querySelector("[data-passkey-error]");
    if (el) { el.textContent = text; el.hidden = false; }
  }
  function busy(btn, on) { if (btn) { btn.disabled = on; btn.setAttribute("aria-busy", on ? "true" : "false"); } }
  function supported() { return !!(window.PublicKeyCredential && navigator.credentials); }

  /* The server answers a ceremony with where to go next, or refuses it. */
  function follow(res) {
    if (res.redirect) { window.location.assign(res.redirect); return; }
    throw new Error(res.error || "refused");
  }
  function failed(box, btn) {
    return function (err) {
      if (err && err.name === "AbortError") return;
      busy(btn, false);
      showError(box, box.dataset.errorText);
    };
  }

  var conditional = null; // AbortController of the autofill request, if any
  var modalStarted = false; // a button press wins over an autofill request still loading

  function login(box, mediation) {
    var btn = box.querySelector("[data-passkey-button]");
    if (!supported()) { showError(box, box.dataset.unsupportedText); return; }
    if (conditional && mediation !== "conditional") { conditional.abort(); conditional = null; }
    busy(btn, mediation !== "conditional");
    if (mediation !== "conditional") modalStarted = true;
    return post(box.dataset.optionsUrl).then(function (opts) {
      if (mediation === "conditional" && modalStarted) throw { name: "AbortError" };
      var req = { publicKey: requestOptions(opts) };
      if (mediation === "conditional") {
        conditional = new AbortController();
        req.mediation = "conditional";
        req.signal = conditional.signal;
      }
      return navigator.credentials.get(req);
    }).then(function (cred) {
      if (!cred) throw new Error("cancelled");
      return post(box.dataset.verifyUrl, JSON.stringify(credentialJSON(cred)));
    }).then(follow).catch(failed(box, btn));
  }

  function register(box) {
    var btn = box.querySelector("[data-passkey-button]");
    if (!supported()) { showError(box, box.dataset.unsupportedText); return; }
    busy(btn, true);
    var nameInput = box.querySelector("input[name=name]");
    post(box.dataset.optionsUrl).then(function (opts) {
      if (opts._status === 401 && opts.redirect) { window.location.assign(opts.redirect); throw { name: "AbortError" }; }
      if (opts._status !== 200) throw new Error("options");
      return navigator.credentials.create({ publicKey: creationOptions(opts) });
    }).then(function (cred) {
      return post(box.dataset.verifyUrl, JSON.stringify({ credential: credentialJSON(cred), name: nameInput ? nameInput.value : "" }));
    }).then(follow).catch(failed(box, btn));
  }

  function init() {
    document.querySelectorAll("[data-passkey-login]").forEach(function (box) {
      var btn = box.querySelector("[data-passkey-button]");
      if (btn) btn.addEventListener("click", function () { login(box); });
      if (document.querySelector("input[autocomplete~=webauthn]") && supported() &&
          PublicKeyCredential.isConditionalMediationAvailable) {
        PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) { if (ok) login(box, "conditional"); });
      }
    });
    document.querySelectorAll("[data-passkey-register]").forEach(function (box) {
      var btn = box.querySelector("[data-passkey-button]");
      if (btn) btn.addEventListener("click", function () { register(box); });
      var form = box.querySelector("form");
      if (form) form.addEventListener("submit", function (e) { e.preventDefault(); register(box); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
