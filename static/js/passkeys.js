// Passkey ceremonies (WebAuthn): sign in, second step, step-up, and registration.
// The server makes the options and checks the answers (py_webauthn); this file only converts
// between its JSON (base64url) and the browser's ArrayBuffers. No inline script (strict CSP).
(function () {
  "use strict";

  function toBuffer(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      return {type: c.type, id: toBuffer(c.id), transports: c.transports};
    });
  }

  async function postJSON(url, body) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.A1W.csrfToken()},
      body: JSON.stringify(body || {}),
    });
    var data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    return {ok: response.ok, status: response.status, data: data};
  }

  function statusOf(button) {
    return button.parentElement.querySelector(".passkey-status");
  }

  function fail(button, message) {
    var status = statusOf(button);
    if (status) {
      status.textContent = message || button.dataset.error || "";
    }
    button.disabled = false;
  }

  function follow(result, button) {
    if (result.data && result.data.redirect) {
      window.location.assign(result.data.redirect);
      return true;
    }
    fail(button, result.data && result.data.error);
    return false;
  }

  async function signIn(button) {
    var options = await postJSON(button.dataset.optionsUrl, {});
    if (!options.ok) {
      return fail(button);
    }
    var o = options.data;
    var credential = await navigator.credentials.get({
      publicKey: {
        challenge: toBuffer(o.challenge),
        rpId: o.rpId,
        timeout: o.timeout,
        userVerification: o.userVerification,
        allowCredentials: descriptors(o.allowCredentials),
      },
    });
    var r = credential.response;
    var shared = button.dataset.sharedCheckbox && document.getElementById(button.dataset.sharedCheckbox);
    var result = await postJSON(button.dataset.verifyUrl, {
      credential: {
        id: credential.id,
        rawId: toBase64url(credential.rawId),
        type: credential.type,
        response: {
          clientDataJSON: toBase64url(r.clientDataJSON),
          authenticatorData: toBase64url(r.authenticatorData),
          signature: toBase64url(r.signature),
          userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
        },
        clientExtensionResults: credential.getClientExtensionResults(),
        authenticatorAttachment: credential.authenticatorAttachment || null,
      },
      shared_device: Boolean(shared && shared.checked),
      next: button.dataset.next || "",
    });
    follow(result, button);
  }

  async function register(button) {
    var options = await postJSON(button.dataset.optionsUrl, {});
    if (!options.ok) {
      return follow(options, button);  // a step-up first: the server says where
    }
    var o = options.data;
    var credential = await navigator.credentials.create({
      publicKey: {
        rp: o.rp,
        user: {id: toBuffer(o.user.id), name: o.user.name, displayName: o.user.displayName},
        challenge: toBuffer(o.challenge),
        pubKeyCredParams: o.pubKeyCredParams,
        timeout: o.timeout,
        excludeCredentials: descriptors(o.excludeCredentials),
        authenticatorSelection: o.authenticatorSelection,
        attestation: o.attestation,
      },
    });
    var r = credential.response;
    var nameInput = document.getElementById(button.dataset.nameInput);
    var result = await postJSON(button.dataset.verifyUrl, {
      credential: {
        id: credential.id,
        rawId: toBase64url(credential.rawId),
        type: credential.type,
        response: {
          clientDataJSON: toBase64url(r.clientDataJSON),
          attestationObject: toBase64url(r.attestationObject),
          transports: r.getTransports ? r.getTransports() : [],
        },
        clientExtensionResults: credential.getClientExtensionResults(),
        authenticatorAttachment: credential.authenticatorAttachment || null,
      },
      name: nameInput ? nameInput.value : "",
    });
    follow(result, button);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-passkey]");
    if (!button) {
      return;
    }
    event.preventDefault();
    button.disabled = true;
    var ceremony = button.dataset.passkey === "register" ? register : signIn;
    ceremony(button).catch(function () {
      fail(button);  // cancelled, timed out, or no passkey on this device
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var supported = Boolean(window.PublicKeyCredential && navigator.credentials);
    document.querySelectorAll(".js-passkey-only").forEach(function (el) {
      el.hidden = !supported;
    });
    document.querySelectorAll(".js-passkey-missing").forEach(function (el) {
      el.hidden = supported;
    });
  });
})();
