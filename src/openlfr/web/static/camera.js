// openlfr camera view: polls each camera's obscured picture and its counters.
"use strict";

(() => {
  const PICTURE_MS = 200; // up to 5 pictures a second
  const RATES_MS = 1000;

  function watch(panel) {
    const dep = panel.dataset.deploymentId;
    const cam = encodeURIComponent(panel.dataset.camera);
    const img = panel.querySelector("[data-picture]");
    const none = panel.querySelector("[data-no-picture]");
    let url = null;

    function noPicture(text) {
      none.textContent = text;
      none.hidden = false;
    }

    async function picture() {
      if (!document.hidden) {
        try {
          const r = await fetch(`/console/api/preview/${dep}/${cam}.jpg`, { credentials: "same-origin", cache: "no-store" });
          if (r.status === 401) { Console.signInAgain(); return; }
          if (r.status === 200) {
            const next = URL.createObjectURL(await r.blob());
            img.src = next;
            img.hidden = false;
            none.hidden = true;
            if (url) URL.revokeObjectURL(url);
            url = next;
          } else {
            // No fresh picture: never leave an old frame on screen.
            img.hidden = true;
            if (url) { URL.revokeObjectURL(url); url = null; }
            img.removeAttribute("src");
            noPicture("No picture: the camera is starting, stopped or not sending.");
          }
        } catch (_) {
          img.hidden = true;
          noPicture("Connection lost – retrying…");
        }
      }
      setTimeout(picture, PICTURE_MS);
    }

    async function rates() {
      if (!document.hidden) {
        try {
          const r = await Console.api("GET", `/console/api/preview/${dep}/${cam}`);
          for (const el of panel.querySelectorAll("[data-stat]")) {
            const v = r[el.dataset.stat];
            if (typeof v === "number") el.textContent = el.dataset.stat === "fps" ? v.toFixed(1) : String(v);
            else el.textContent = v ? String(v) + (el.dataset.stat === "state" && r.error ? ` (${r.error})` : "") : "—";
          }
        } catch (_) { /* shown by the picture's state */ }
      }
      setTimeout(rates, RATES_MS);
    }

    picture();
    rates();
  }

  document.querySelectorAll(".camera[data-camera]").forEach(watch);
})();
