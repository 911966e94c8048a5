// openlfr console: calls the REST API for forms and buttons, shows its errors, signs out.
"use strict";

const Console = (() => {
  class ApiError extends Error {
    constructor(status, body) {
      const detail = (body && body.error) || {};
      super(detail.message || `request failed (${status})`);
      this.status = status;
      this.code = detail.code || "error";
      this.fields = detail.fields || [];
      this.rejections = detail.rejections || [];
    }
  }

  async function api(method, url, body) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new ApiError(0, { error: { message: "No connection to the server. Try again." } });
    }
    if (response.status === 401 && !url.endsWith("/auth/login")) {
      signInAgain();
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function signInAgain() {
    const back = location.pathname + location.search;
    location.assign(`/console/login?next=${encodeURIComponent(back)}`);
  }

  // Labels for the quality gate's stable rejection codes.
  const REASONS = {
    not_an_image: "Not an image",
    unsupported_format: "Unsupported format",
    corrupt: "Damaged file",
    too_large_bytes: "File too large",
    too_large_pixels: "Picture too large",
    no_face: "No face found",
    several_faces: "More than one face",
    face_too_small: "Face too small",
    too_blurred: "Too blurred",
    extreme_pose: "Face turned too far",
    low_confidence: "Face unclear",
  };

  function clearErrors(form) {
    const box = form.querySelector("[data-errors]");
    if (box) { box.hidden = true; box.textContent = ""; }
    form.querySelectorAll("[aria-invalid]").forEach((el) => {
      el.removeAttribute("aria-invalid");
      const describedBy = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-err"));
      if (describedBy.length) el.setAttribute("aria-describedby", describedBy.join(" "));
      else el.removeAttribute("aria-describedby");
    });
  }

  // Shows an API error: its message, the fields it names, and each refused photo with why.
  function showErrors(container, err, form) {
    const box = container.querySelector("[data-errors]") || container;
    box.textContent = "";
    const heading = document.createElement("h3");
    heading.textContent = err.rejections.length ? "Nothing was saved" : "Not done";
    box.appendChild(heading);
    const message = document.createElement("p");
    message.textContent = err.rejections.length
      ? `${err.rejections.length} photo(s) refused by the quality gate. Replace or remove them and try again.`
      : err.message;
    box.appendChild(message);
    const items = [];
    for (const r of err.rejections) {
      const label = REASONS[r.reason] || r.reason;
      // The gate's message usually starts with the reason itself: do not say it twice.
      const said = r.message.toLowerCase().startsWith(label.toLowerCase());
      const text = said ? capitalise(r.message) : `${label}: ${r.message}`;
      items.push({ text: `${r.image} — ${text}`, reason: r.reason, image: r.image });
    }
    if (form) markPhotos(form, err.rejections);
    for (const f of err.fields) {
      const name = f.field.replace(/^body\./, "");
      const input = form && form.querySelector(`[name="${CSS.escape(name)}"]`);
      const label = input && input.labels && input.labels[0] ? input.labels[0].textContent.trim() : name;
      items.push({ text: `${label}: ${f.message}`, cls: "field" });
      if (input) {
        input.setAttribute("aria-invalid", "true");
      }
    }
    if (items.length) {
      const list = document.createElement("ul");
      list.className = err.rejections.length ? "rejections" : "fields";
      for (const item of items) {
        const li = document.createElement("li");
        li.textContent = item.text;
        if (item.reason) { li.dataset.reason = item.reason; li.dataset.image = item.image; }
        list.appendChild(li);
      }
      box.appendChild(list);
    }
    box.hidden = false;
    box.setAttribute("tabindex", "-1");
    box.focus();
  }

  function capitalise(text) { return text.charAt(0).toUpperCase() + text.slice(1); }

  // Each chosen photo, listed under its file input, later marked refused or passed.
  function listPhotos(input) {
    let list = input.parentElement.querySelector("[data-photo-list]");
    if (!list) {
      list = document.createElement("ul");
      list.className = "photo-list";
      list.dataset.photoList = "";
      list.setAttribute("aria-label", "Chosen photos");
      input.insertAdjacentElement("afterend", list);
    }
    list.querySelectorAll("img").forEach((img) => URL.revokeObjectURL(img.src));
    list.textContent = "";
    for (const file of input.files) {
      const li = document.createElement("li");
      li.dataset.image = file.name;
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = "";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      const status = document.createElement("span");
      status.className = "status";
      status.textContent = "Not checked yet";
      li.append(img, name, status);
      list.appendChild(li);
    }
  }

  function markPhotos(form, rejections) {
    const refused = new Map(rejections.map((r) => [r.image, r]));
    for (const li of form.querySelectorAll("[data-photo-list] li")) {
      const r = refused.get(li.dataset.image);
      const status = li.querySelector(".status");
      li.classList.toggle("refused", Boolean(r));
      li.classList.toggle("passed", !r);
      status.textContent = r
        ? `Refused: ${r.message}`
        : "Passed the quality gate (not saved, because another photo was refused)";
    }
  }

  function pad(n) { return String(n).padStart(2, "0"); }
  function localInput(date) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  function readFile(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  function setPath(target, path, value) {
    const parts = path.split(".");
    let node = target;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const key = /^\d+$/.test(part) ? Number(part) : part;
      if (last) { node[key] = value; return; }
      if (node[key] === undefined) node[key] = /^\d+$/.test(parts[i + 1]) ? [] : {};
      node = node[key];
    });
  }

  // Form fields → the JSON body the API expects (dotted names nest; empty optional fields go).
  async function formBody(form) {
    const body = {};
    const groups = new Map();
    for (const el of form.querySelectorAll("[name]")) {
      if (el.dataset.group) {
        const filled = groups.get(el.dataset.group) || false;
        groups.set(el.dataset.group, filled || el.value.trim() !== "");
      }
    }
    for (const el of form.querySelectorAll("[name]")) {
      if (el.disabled) continue;
      if (el.dataset.group && !groups.get(el.dataset.group)) continue;
      const kind = el.dataset.kind || "text";
      let value;
      if (kind === "images") {
        value = [];
        for (const file of el.files) value.push({ name: file.name, data: await readFile(file) });
        if (!value.length) continue;
      } else if (el.type === "checkbox") {
        value = el.checked;
      } else {
        const raw = el.value.trim();
        if (raw === "" && !("keepEmpty" in el.dataset)) continue;
        if (kind === "number") value = Number(raw);
        else if (kind === "bool") value = raw === "true";
        else if (kind === "int") value = parseInt(raw, 10);
        else if (kind === "bool") value = raw === "true";
        else if (kind === "datetime") value = new Date(raw).toISOString();
        else if (kind === "date-end") value = new Date(`${raw}T23:59:59`).toISOString();
        else value = raw;
      }
      setPath(body, el.name, value);
    }
    return body;
  }

  function after(spec, data) {
    if (!spec || spec === "reload") { location.reload(); return; }
    if (spec.startsWith("go:")) {
      location.assign(spec.slice(3).replace("{id}", data && data.id !== undefined ? data.id : ""));
    }
  }

  function busy(control, on) {
    const buttons = control.tagName === "FORM" ? control.querySelectorAll("button") : [control];
    buttons.forEach((b) => { b.disabled = on; });
    control.setAttribute("aria-busy", on ? "true" : "false");
  }

  function bindApiForms() {
    for (const form of document.querySelectorAll("form[data-api]")) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        clearErrors(form);
        busy(form, true);
        try {
          const data = await api(form.dataset.api, form.dataset.url, await formBody(form));
          after(form.dataset.then, data);
        } catch (err) {
          busy(form, false);
          showErrors(form, err, form);
        }
      });
    }
    for (const button of document.querySelectorAll("button[data-api]")) {
      button.addEventListener("click", async () => {
        busy(button, true);
        try {
          const data = await api(button.dataset.api, button.dataset.url);
          after(button.dataset.then, data);
        } catch (err) {
          busy(button, false);
          alertBox(button.parentElement, err);
        }
      });
    }
  }

  function alertBox(parent, err) {
    let box = parent.querySelector("[data-errors]");
    if (!box) {
      box = document.createElement("div");
      box.className = "errors";
      box.setAttribute("role", "alert");
      box.dataset.errors = "";
      parent.appendChild(box);
    }
    showErrors(parent, err, null);
  }

  function bindPhotoInputs() {
    for (const input of document.querySelectorAll("input[type=file][data-kind=images]")) {
      input.addEventListener("change", () => listPhotos(input));
    }
  }

  function fillDefaults() {
    for (const el of document.querySelectorAll("input[data-default]")) {
      if (el.value) continue;
      const match = /^now(?:\+(\d+)h)?$/.exec(el.dataset.default);
      if (!match) continue;
      const when = new Date(Date.now() + (Number(match[1] || 0) * 3600 * 1000));
      el.value = localInput(when);
    }
  }

  // Shows each UTC time also in the browser's local time (tooltip keeps UTC).
  function localTimes(root) {
    for (const el of (root || document).querySelectorAll("time[datetime]")) {
      const when = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(when.getTime())) continue;
      const style = {
        year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
        hourCycle: "h23", timeZoneName: "short",
      };
      // Shown in UTC, as the published record and the audit log state it; local time on hover.
      el.textContent = when.toLocaleString("en-GB", { ...style, timeZone: "UTC" });
      el.title = `Your local time: ${when.toLocaleString(undefined, style)}`;
    }
  }

  function bindLogin() {
    const form = document.getElementById("login");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      busy(form, true);
      try {
        const body = { username: form.username.value.trim(), password: form.password.value };
        const code = form.totp.value.replace(/\s/g, "");
        if (code) body.totp = code;
        await api("POST", "/api/v1/auth/login", body);
        location.assign(form.dataset.next || "/console/");
      } catch (err) {
        busy(form, false);
        form.password.value = "";
        form.totp.value = "";
        showErrors(form, err, form);
      }
    });
    form.username.focus();
  }

  // Two-factor set-up: the key is shown once, then confirmed with a code from the app.
  function bindTotp() {
    const start = document.getElementById("totp-start");
    if (!start) return;
    start.addEventListener("click", async () => {
      busy(start, true);
      try {
        const data = await api("POST", "/api/v1/auth/me/totp");
        document.getElementById("totp-qr").src = data.qr_svg_data_uri;
        document.getElementById("totp-secret").textContent = data.secret;
        document.getElementById("totp-enrol").hidden = false;
        start.hidden = true;
        document.getElementById("confirm-code").focus();
      } catch (err) {
        busy(start, false);
        alertBox(start.parentElement, err);
      }
    });
  }

  function bindSignOut() {
    for (const button of document.querySelectorAll("[data-signout]")) {
      button.addEventListener("click", async () => {
        try { await api("POST", "/api/v1/auth/logout"); } catch (_) { /* signed out either way */ }
        location.assign("/console/login");
      });
    }
  }

  function bindVerify() {
    const button = document.getElementById("verify");
    if (!button) return;
    const status = document.getElementById("verify-status");
    button.addEventListener("click", async () => {
      busy(button, true);
      status.textContent = "Verifying…";
      try {
        const r = await api("GET", "/api/v1/audit/verify");
        const p = document.createElement("p");
        p.className = `notice ${r.ok ? "ok" : "bad"}`;
        p.textContent = r.ok
          ? `Intact: ${r.events_checked} events verified just now; head ${r.head_hash.slice(0, 16)}…`
          : `Broken at event ${r.broken_at_seq}: ${r.problem} (${r.events_checked} events verified before it).`;
        status.replaceChildren(p);
      } catch (err) {
        status.textContent = `Could not verify: ${err.message}`;
      } finally {
        busy(button, false);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    fillDefaults();
    localTimes();
    bindApiForms();
    bindPhotoInputs();
    bindLogin();
    bindTotp();
    bindSignOut();
    bindVerify();
  });

  return { api, ApiError, showErrors, localTimes, signInAgain };
})();
