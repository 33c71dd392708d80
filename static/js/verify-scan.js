/* The offline inspector verifier (/verify/scan): read a QR code (camera, photo or pasted text),
 * verify it here with verify-core.js against the trust and revocation lists saved on this device,
 * and show the answer in words, colour and icon. Every word comes from the page's templates
 * (translated on the server); nothing read from a QR code is sent anywhere.
 */
(function () {
  "use strict";

  const root = document.getElementById("scan");
  if (!root || !window.A1W) return;

  const STORE_KEY = "a1w-verify-lists";
  const STALE_AFTER_MS = 24 * 3600 * 1000; // warn when the keys are older than this
  const CLOCK_TOLERANCE_MS = 2 * 60 * 1000 + 1000; // 2 minutes, plus the Date header's 1 s
  const REFRESH_EVERY_MS = 10 * 60 * 1000; // while the page stays open and online
  const CAMERA_INTERVAL_MS = 200;
  const PHOTO_MAX_SIDE = 1600;

  const locale = root.dataset.locale || document.documentElement.lang || "en";
  const $ = (id) => document.getElementById(id);
  const el = {
    cameraBlock: $("camera-block"),
    cameraStart: $("camera-start"),
    cameraView: $("camera-view"),
    cameraVideo: $("camera-video"),
    cameraStop: $("camera-stop"),
    photo: $("photo-input"),
    textForm: $("text-form"),
    text: $("qr-text"),
    progress: $("scan-progress"),
    result: $("scan-result"),
    listsAge: $("lists-age"),
    listsOffline: $("lists-offline"),
    listsError: $("lists-error"),
    staleWarning: $("stale-warning"),
    clockWarning: $("clock-warning"),
    refresh: $("lists-refresh"),
  };

  // ---------------------------------------------------------------------------------------------
  // Translated texts, icons and the answer markup, from <template> elements of the page

  const texts = {};
  for (const node of $("scan-texts").content.querySelectorAll("[data-text]")) {
    texts[node.dataset.text] = node.textContent;
  }
  function t(name, values) {
    let text = texts[name] || "";
    for (const [key, value] of Object.entries(values || {})) text = text.split("{" + key + "}").join(value);
    return text;
  }
  function icon(tone) {
    return $("scan-icons").content.querySelector('[data-icon="' + tone + '"]').cloneNode(true);
  }

  const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" });
  // The month in words, as on the server's pages (a medium date is all digits in de and nl).
  const utcFormat = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "medium", timeZone: "UTC" });
  const localFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  let regionNames = null;
  try {
    regionNames = new Intl.DisplayNames([locale], { type: "region" });
  } catch (error) {
    regionNames = null;
  }
  /** The country's name in the page's language (the browser knows them all), else the code. */
  function regionName(code) {
    try {
      return (regionNames && regionNames.of(code)) || code;
    } catch (error) {
      return code;
    }
  }
  function countryName(code) {
    const name = regionName(code);
    return name === code ? code : name + " (" + code + ")";
  }
  function longDate(iso) {
    return dateFormat.format(new Date(iso + "T00:00:00Z"));
  }

  function show(node, visible) {
    node.hidden = !visible;
  }
  function progress(message) {
    el.progress.textContent = message || "";
  }

  // ---------------------------------------------------------------------------------------------
  // The trust and revocation lists: saved with their fetch time, refreshed whenever online

  const lists = {
    keysDoc: null,
    revokedDoc: null,
    fetchedAt: null, // this device's clock when they were downloaded
    serverDate: null, // the server's clock then (Date header)
    keySet: null,
    revocations: null,
    offline: false,
    clockSkewMs: null, // device minus server, measured on the last download in this session
    damaged: false,
    failed: false,
  };
  let listsReady = null; // a promise while the first load is under way

  function readStore() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      return saved && saved.keys && saved.revoked ? saved : null;
    } catch (error) {
      return null;
    }
  }

  function writeStore() {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({
        keys: lists.keysDoc,
        revoked: lists.revokedDoc,
        fetchedAt: lists.fetchedAt,
        serverDate: lists.serverDate,
      }));
    } catch (error) {
      // private browsing or a full store: the service worker cache still has the lists
    }
  }

  /** Parse and adopt a pair of documents; false (and nothing changed) if one is malformed. */
  async function adopt(keysDoc, revokedDoc, fetchedAt, serverDate) {
    let keySet;
    let revocations;
    try {
      keySet = await window.A1W.loadKeys(keysDoc);
      revocations = window.A1W.loadRevoked(revokedDoc);
    } catch (error) {
      return false;
    }
    Object.assign(lists, { keysDoc, revokedDoc, fetchedAt, serverDate, keySet, revocations });
    return true;
  }

  /** The first date of a Date header (some servers send two, which fetch joins with ", "). */
  function httpDate(value) {
    const match = /[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT/.exec(value || "");
    return match ? Date.parse(match[0]) : NaN;
  }

  async function fetchList(url) {
    // no-store: always the server's current list and a fresh Date header (never a 304)
    const response = await fetch(url, { cache: "no-store", credentials: "omit" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const doc = await response.json();
    const fetchedAt = Number(response.headers.get("X-A1W-Fetched-At")) || null;
    return {
      doc,
      fromCache: response.headers.get("X-A1W-From-Cache") === "1",
      fetchedAt,
      date: httpDate(response.headers.get("Date")),
    };
  }

  async function refreshLists() {
    lists.failed = false;
    if (lists.keySet) el.listsAge.textContent = t("lists_refreshing");
    try {
      const [keys, revoked] = await Promise.all([
        fetchList(root.dataset.keysUrl),
        fetchList(root.dataset.revokedUrl),
      ]);
      const received = Date.now();
      if (!keys.fromCache && !revoked.fromCache) {
        lists.offline = false;
        if (Number.isFinite(keys.date)) lists.clockSkewMs = received - keys.date;
        const serverDate = Number.isFinite(keys.date) ? keys.date : null;
        lists.damaged = !(await adopt(keys.doc, revoked.doc, received, serverDate));
        if (!lists.damaged) writeStore();
      } else {
        // The service worker answered from its cache: we are offline. The lists saved by the
        // page come first; the worker's copy serves when the page has none (e.g. no storage).
        lists.offline = true;
        if (!lists.keySet) {
          const cachedAt = Math.min(keys.fetchedAt || 0, revoked.fetchedAt || 0) || null;
          await adopt(keys.doc, revoked.doc, cachedAt, null);
        }
      }
    } catch (error) {
      lists.offline = !navigator.onLine;
      lists.failed = true;
    }
    renderLists();
  }

  function renderLists() {
    const now = Date.now();
    if (!window.crypto || !window.crypto.subtle) {
      el.listsAge.textContent = t("no_webcrypto");
    } else if (!lists.keySet) {
      el.listsAge.textContent = t("lists_none");
    } else if (lists.fetchedAt) {
      el.listsAge.textContent = t("lists_refreshed", { when: localFormat.format(new Date(lists.fetchedAt)) });
    } else {
      el.listsAge.textContent = t("lists_unknown_age");
    }
    show(el.listsOffline, Boolean(lists.keySet) && lists.offline);
    const stale = Boolean(lists.keySet) && (!lists.fetchedAt || now - lists.fetchedAt > STALE_AFTER_MS);
    show(el.staleWarning, stale);
    // The clock: measured against the server's Date on the last download; offline, a clock set
    // before the last download is wrong too.
    const lastKnown = Math.max(lists.fetchedAt || 0, lists.serverDate || 0);
    const skewed =
      (lists.clockSkewMs !== null && Math.abs(lists.clockSkewMs) > CLOCK_TOLERANCE_MS) ||
      (lastKnown > 0 && now + CLOCK_TOLERANCE_MS < lastKnown);
    show(el.clockWarning, skewed);
    const error = lists.damaged ? t("lists_damaged") : lists.failed && !lists.offline ? t("lists_refresh_failed") : "";
    el.listsError.textContent = error;
    show(el.listsError, Boolean(error));
    root.dataset.listsState = lists.keySet ? (stale ? "stale" : "fresh") : "none";
  }

  async function loadLists() {
    const saved = readStore();
    if (saved) await adopt(saved.keys, saved.revoked, saved.fetchedAt || null, saved.serverDate || null);
    renderLists();
    const refreshed = refreshLists();
    // With saved lists, checks need not wait for the network; without, they must.
    if (!lists.keySet) await refreshed;
    else refreshed.then(() => recheck());
  }

  // ---------------------------------------------------------------------------------------------
  // Verification and the answer

  let lastText = null;

  /** The answer for a verifier status: undecodable text is "not readable" (scan again or type
   * the code), a code in our format that fails is "not genuine" (as on the server's pages). */
  function stateOf(result) {
    switch (result.status) {
      case "valid":
        return result.claims.kind === "official" ? "valid_official" : "valid_provisional";
      case "not_yet_valid":
      case "expired":
        return result.status;
      case "revoked":
        return "withdrawn";
      case "malformed":
        return "not_readable";
      default:
        return "not_genuine";
    }
  }

  /** The tone of each answer, as the page's template defines it (verify/_texts.html). */
  function toneOf(state) {
    const node = $("scan-texts").content.querySelector('[data-text="title_' + state + '"]');
    return (node && node.dataset.tone) || "bad";
  }

  const institutions = {};
  for (const node of $("scan-institutions").content.querySelectorAll("[data-code]")) {
    institutions[node.dataset.code] = node.textContent;
  }

  /** Clone the page's answer markup (verify/_answer.html, rendered empty) and fill its slots. */
  function renderAnswer(result, checkedAt) {
    const state = stateOf(result);
    const tone = toneOf(state);
    const fragment = $("scan-answer").content.cloneNode(true);
    const slot = (name) => fragment.querySelector('[data-slot="' + name + '"]');
    const answer = fragment.querySelector(".answer");
    answer.classList.add("answer-" + tone);
    answer.dataset.state = state;
    answer.dataset.status = result.status;
    slot("icon").replaceWith(icon(state === "not_readable" ? "unreadable" : tone));
    slot("title").textContent = t("title_" + state);
    slot("text").textContent = t("text_" + state);
    show(slot("type-code"), state === "not_readable");
    const notes = { unknown_key: "note_unknown_key", kind_mismatch: "note_kind_mismatch" };
    const note = notes[result.status] ? t(notes[result.status]) : "";
    slot("note").textContent = note;
    show(slot("note"), Boolean(note));
    if (state === "not_genuine") {
      slot("reason").textContent = t("reason", { code: result.status });
      show(slot("reason"), true);
    }
    slot("checked-at").textContent = t("checked_at", { when: utcFormat.format(new Date(checkedAt)) });

    const details = slot("details");
    const c = result.claims;
    if (!c) {
      details.remove();
    } else {
      slot("family_name").textContent = c.family_name;
      slot("given_names").textContent = c.given_names;
      for (const name of ["family_name_ascii", "given_names_ascii"]) {
        if (c[name]) {
          slot(name).textContent = "(" + c[name] + ")";
          show(slot(name), true);
        }
      }
      slot("birth_date").textContent = longDate(c.birth_date);
      slot("legislation_state").textContent = countryName(c.legislation_state);
      slot("work_states").textContent = c.work_states.map(countryName).join(", ");
      slot("valid_from").textContent = longDate(c.valid_from);
      slot("valid_to").textContent = longDate(c.valid_to);
      slot("document").textContent = t("document_" + c.kind + "_" + c.document_type);
      const official = c.kind === "official";
      if (official) {
        const name = institutions[c.issuing_institution];
        slot("issued_by").textContent = name || c.issuing_institution;
        if (name) {
          slot("issuer_code").textContent = c.issuing_institution;
          show(slot("issuer_code"), true);
        }
        slot("provisional_note").remove();
      } else {
        slot("issued_by").textContent = c.issuer === t("provider_id") ? t("provider_name") : c.issuer;
        slot("official_note").remove();
        slot("provisional_state").textContent = t("provisional_state", { state: regionName(c.legislation_state) });
      }
    }
    el.result.replaceChildren(fragment);
    root.dataset.resultStatus = result.status;
  }

  async function check(text, { focus = true } = {}) {
    lastText = text;
    if (!window.crypto || !window.crypto.subtle) {
      progress(t("no_webcrypto"));
      return;
    }
    if (listsReady) await listsReady;
    if (!lists.keySet) {
      el.result.replaceChildren();
      progress(t("no_keys"));
      return;
    }
    const checkedAt = Date.now();
    const result = await window.A1W.verify(text, lists.keySet, lists.revocations, checkedAt);
    renderAnswer(result, checkedAt);
    progress(t("checked"));
    if (focus) {
      const title = el.result.querySelector("#answer-title");
      if (title) title.focus();
    }
  }

  /** After a refresh of the lists, the answer on screen is checked again (e.g. now withdrawn). */
  function recheck() {
    if (lastText !== null && lists.keySet) check(lastText, { focus: false });
  }

  // ---------------------------------------------------------------------------------------------
  // Reading QR codes: BarcodeDetector where the browser has it, jsQR (vendored) otherwise

  let detectorPromise = null;
  function barcodeDetector() {
    if (!detectorPromise) {
      detectorPromise = (async () => {
        if (!("BarcodeDetector" in window)) return null;
        try {
          const formats = await window.BarcodeDetector.getSupportedFormats();
          return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
        } catch (error) {
          return null;
        }
      })();
    }
    return detectorPromise;
  }

  let jsqrPromise = null;
  function loadJsQR() {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    if (!jsqrPromise) {
      jsqrPromise = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = root.dataset.jsqrUrl;
        script.onload = () => (window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR")));
        script.onerror = () => {
          jsqrPromise = null;
          reject(new Error("jsQR"));
        };
        document.head.appendChild(script);
      });
    }
    return jsqrPromise;
  }

  const canvas = document.createElement("canvas");
  const context2d = canvas.getContext("2d", { willReadFrequently: true });

  /** The text of the first QR code in an image (bitmap, video), or null. */
  async function readQR(source, width, height, maxSide, thorough) {
    const detector = await barcodeDetector();
    if (detector) {
      try {
        const codes = await detector.detect(source);
        if (codes.length && codes[0].rawValue) return codes[0].rawValue;
      } catch (error) {
        // fall back to jsQR
      }
    }
    const jsQR = await loadJsQR();
    const scale = Math.min(1, maxSide / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    context2d.drawImage(source, 0, 0, canvas.width, canvas.height);
    const image = context2d.getImageData(0, 0, canvas.width, canvas.height);
    const code = jsQR(image.data, image.width, image.height, {
      inversionAttempts: thorough ? "attemptBoth" : "dontInvert",
    });
    return code && code.data ? code.data : null;
  }

  function imageFromFile(file) {
    if (window.createImageBitmap) return createImageBitmap(file);
    // Older browsers: a data: URL (the CSP allows data: images, not blob:)
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onerror = () => reject(new Error("read"));
      reader.onload = () => {
        const img = new Image();
        img.onload = () => resolve(img);
        img.onerror = () => reject(new Error("decode"));
        img.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }

  async function onPhoto() {
    const file = el.photo.files && el.photo.files[0];
    if (!file) return;
    progress(t("reading_photo"));
    let image;
    try {
      image = await imageFromFile(file);
    } catch (error) {
      progress(t("photo_unreadable"));
      return;
    }
    const width = image.width || image.naturalWidth;
    const height = image.height || image.naturalHeight;
    let text = null;
    try {
      text = await readQR(image, width, height, PHOTO_MAX_SIDE, true);
      if (!text && Math.max(width, height) > PHOTO_MAX_SIDE) {
        text = await readQR(image, width, height, 2 * PHOTO_MAX_SIDE, true); // a small code in a big photo
      }
    } catch (error) {
      text = null;
    } finally {
      if (image.close) image.close();
      el.photo.value = ""; // the same photo can be chosen again
    }
    if (!text) {
      progress(t("no_qr_in_photo"));
      return;
    }
    await check(text);
  }

  const camera = { stream: null, timer: null, busy: false };

  async function startCamera() {
    try {
      camera.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
      el.cameraVideo.srcObject = camera.stream;
      show(el.cameraView, true);
      show(el.cameraStart, false);
      await el.cameraVideo.play();
      progress(t("camera_hint"));
      camera.timer = setInterval(scanFrame, CAMERA_INTERVAL_MS);
    } catch (error) {
      stopCamera();
      progress(t("camera_failed"));
    }
  }

  async function scanFrame() {
    const video = el.cameraVideo;
    if (camera.busy || !camera.stream || video.readyState < 2 || !video.videoWidth) return;
    camera.busy = true;
    try {
      const text = await readQR(video, video.videoWidth, video.videoHeight, 800, false);
      if (text && camera.stream) {
        stopCamera();
        await check(text);
      }
    } catch (error) {
      // the next frame may do
    } finally {
      camera.busy = false;
    }
  }

  function stopCamera() {
    clearInterval(camera.timer);
    camera.timer = null;
    if (camera.stream) camera.stream.getTracks().forEach((track) => track.stop());
    camera.stream = null;
    el.cameraVideo.srcObject = null;
    show(el.cameraView, false);
    show(el.cameraStart, true);
  }

  // ---------------------------------------------------------------------------------------------
  // Service worker (own scope /verify/), events, start

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker
      .register(root.dataset.swUrl, { scope: root.dataset.swScope })
      .catch(() => {
        // no offline copy on this browser; the page still works online
      });
  }

  el.textForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = el.text.value.trim();
    if (!text) {
      progress(t("empty_text"));
      el.text.focus();
      return;
    }
    check(text);
  });
  el.photo.addEventListener("change", onPhoto);
  el.refresh.addEventListener("click", async () => {
    await refreshLists();
    recheck();
  });
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    show(el.cameraBlock, true);
    el.cameraStart.addEventListener("click", startCamera);
    el.cameraStop.addEventListener("click", () => {
      stopCamera();
      progress("");
    });
    document.addEventListener("visibilitychange", () => {
      if (document.hidden && camera.stream) stopCamera();
    });
  }
  window.addEventListener("online", async () => {
    await refreshLists();
    recheck();
  });
  setInterval(() => {
    if (navigator.onLine && !document.hidden) refreshLists().then(recheck);
    else renderLists();
  }, REFRESH_EVERY_MS);
  setInterval(renderLists, 60 * 1000); // the age of the keys, and the stale warning

  listsReady = loadLists().finally(() => {
    listsReady = null;
    root.dataset.ready = "true";
  });
  if (document.readyState === "complete") registerServiceWorker();
  else window.addEventListener("load", registerServiceWorker);
})();
