// Passkey ceremonies (WebAuthn) for buttons marked data-passkey="register" or "login".
// A separate file, never inline: the Content-Security-Policy allows scripts from 'self' only.
// The buttons are rendered disabled and enabled here once they listen: a click made while
// this script was still loading would otherwise do nothing at all.
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? "{}" : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { var error = new Error(data.message || data.error || "failed"); error.data = data; throw error; }
        return data;
      });
    });
  }

  function credentialJson(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toB64url(response.attestationObject);
      if (response.getTransports) { json.response.transports = response.getTransports(); }
    } else {
      json.response.authenticatorData = toB64url(response.authenticatorData);
      json.response.signature = toB64url(response.signature);
      if (response.userHandle) { json.response.userHandle = toB64url(response.userHandle); }
    }
    return json;
  }

  function register(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return navigator.credentials.create({ publicKey: options });
  }

  function login(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return navigator.credentials.get({ publicKey: options });
  }

  function start(button) {
    var kind = button.getAttribute("data-passkey");
    var csrf = button.getAttribute("data-csrf");
    var verifyUrl = button.getAttribute("data-verify-url");
    var errorBox = document.querySelector("[data-passkey-error]");
    if (errorBox) { errorBox.hidden = true; }
    if (kind === "register") {
      var nameField = document.getElementById("passkey-name");
      var name = nameField ? nameField.value : "";
      verifyUrl += (verifyUrl.indexOf("?") < 0 ? "?" : "&") + "name=" + encodeURIComponent(name);
    }
    button.disabled = true;
    post(button.getAttribute("data-options-url"), csrf)
      .then(function (options) { return kind === "register" ? register(options) : login(options); })
      .then(function (credential) { return post(verifyUrl, csrf, credentialJson(credential)); })
      .then(function (result) { window.location.assign(result.redirect || "/"); })
      .catch(function (error) {
        button.disabled = false;
        if (errorBox) {
          errorBox.textContent = (error && error.data && error.data.message) || button.getAttribute("data-error");
          errorBox.hidden = false;
        }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-passkey]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) { start(event.currentTarget); });
      buttons[i].disabled = false;
    }
  });
})();
