// openlfr alert queue: one card per episode (a person's repeat sightings), live (server-sent
// events), "taken" claims, two-click decisions, two-person verification, keyboard shortcuts.
// Cards never move under the operator: new looks join their card in place, new episodes
// join the end.
"use strict";

(() => {
  const queue = document.getElementById("queue");
  if (!queue) return;

  const me = Number(document.body.dataset.userId);
  const statusEl = document.getElementById("live-status");
  const announcer = document.getElementById("announcer");
  const countEl = document.getElementById("pending-count");
  const decidedBody = document.getElementById("decided");
  const soundButton = document.getElementById("sound");
  const deploymentId = queue.dataset.deploymentId;
  const baseTitle = document.title;
  const claims = new Map();
  const streams = { alerts: null, events: null };
  let lastId = Number(queue.dataset.sinceId || 0);
  let everLive = false;

  // When each alert reached the page (ms since the epoch), for measuring alert-to-screen delay.
  window.openlfrTimings = [];
  // Alert ids whose "settled" event this page has handled (tests wait on it, not on time).
  window.openlfrSettled = [];

  const now = () => performance.timeOrigin + performance.now();

  // ----- connection status ---------------------------------------------------------------
  function setStatus() {
    const states = Object.values(streams).map((s) => (s ? s.readyState : EventSource.CLOSED));
    let state = "live";
    if (states.some((s) => s === EventSource.CLOSED)) state = "offline";
    else if (states.some((s) => s === EventSource.CONNECTING)) state = everLive ? "reconnecting" : "connecting";
    if (state === "live") everLive = true;
    const text = {
      live: "Live",
      connecting: "Connecting…",
      reconnecting: "Reconnecting…",
      offline: "Connection lost – retrying",
    }[state];
    if (statusEl.dataset.state !== state) {
      statusEl.dataset.state = state;
      statusEl.textContent = text;
    }
  }

  function retry(open) {
    // A stream the browser gave up on (e.g. the session ended): check, then open it again.
    setTimeout(async () => {
      try { await Console.api("GET", "/api/v1/auth/me"); } catch (_) { /* 401 goes to sign-in */ }
      open();
    }, 3000);
  }

  function openAlerts() {
    const params = new URLSearchParams({ since_id: String(lastId) });
    if (deploymentId) params.set("deployment_id", deploymentId);
    const es = new EventSource(`/api/v1/alerts/stream?${params}`);
    streams.alerts = es;
    es.addEventListener("open", setStatus);
    es.addEventListener("error", () => {
      setStatus();
      if (es.readyState === EventSource.CLOSED) retry(openAlerts);
    });
    es.addEventListener("alert", (event) => {
      const received = now();
      onAlert(JSON.parse(event.data), received);
    });
    setStatus();
  }

  function openEvents() {
    const es = new EventSource("/console/api/events");
    streams.events = es;
    es.addEventListener("open", setStatus);
    es.addEventListener("error", () => {
      setStatus();
      if (es.readyState === EventSource.CLOSED) retry(openEvents);
    });
    es.addEventListener("claims", (event) => {
      claims.clear();
      for (const c of JSON.parse(event.data).claims) claims.set(c.alert_id, c);
      queue.querySelectorAll("article.card").forEach(markCard);
    });
    es.addEventListener("open", () => {
      // Back online: fetch again any picture the outage broke.
      queue.querySelectorAll("article.card img").forEach((img) => {
        if (img.complete && img.naturalWidth === 0) img.dispatchEvent(new Event("error"));
      });
    });
    es.addEventListener("claim", (event) => {
      const { claim } = JSON.parse(event.data);
      claims.set(claim.alert_id, claim);
      markCard(cardOf(claim.alert_id));
    });
    es.addEventListener("release", (event) => {
      const { alert_id: id } = JSON.parse(event.data);
      claims.delete(id);
      markCard(cardOf(id));
    });
    es.addEventListener("verify", (event) => {
      const v = JSON.parse(event.data);
      refreshDecide(cardOf(v.alert_id));
    });
    es.addEventListener("settled", (event) => {
      const s = JSON.parse(event.data);
      claims.delete(s.alert_id);
      settle(cardOf(s.alert_id), s.alert_id, s.decision, s.outcome, s.by);
      window.openlfrSettled.push(s.alert_id);
    });
    setStatus();
  }

  // ----- cards -------------------------------------------------------------------------
  const cardOf = (id) => document.getElementById(`alert-${id}`);

  const episodeCard = (id) => queue.querySelector(`article.card[data-episode-id="${id}"]`);
  const seenLooks = new Set();

  async function fetchCard(alertId) {
    // The card of the episode the alert belongs to; null if decided, purged or offline.
    try {
      const response = await fetch(`/console/alerts/${alertId}/card`, { credentials: "same-origin" });
      if (response.redirected || response.status === 401) { Console.signInAgain(); return null; }
      if (!response.ok) return null;
      const template = document.createElement("template");
      template.innerHTML = (await response.text()).trim();
      return template.content.firstElementChild;
    } catch (_) {
      return null; // offline: the replay after reconnecting brings it again
    }
  }

  // A new look of a person already in the queue: their card shows it where it is.
  function mergeLooks(card, fresh) {
    for (const part of ["faces", "summary", "looks"]) {
      const old = card.querySelector(`[data-part="${part}"]`);
      const next = fresh.querySelector(`[data-part="${part}"]`);
      if (old && next) old.replaceWith(next);
    }
    Console.localTimes(card);
    card.querySelectorAll("img").forEach(retryImage);
    card.classList.add("updated");
  }

  // Verification moved on (someone proposed or confirmed): show the card's new decision part.
  async function refreshDecide(card) {
    if (!card) return;
    const fresh = await fetchCard(card.dataset.alertId);
    if (!fresh || !card.isConnected) return;
    const old = card.querySelector('[data-part="decide"]');
    const next = fresh.querySelector('[data-part="decide"]');
    if (old && next) old.replaceWith(next);
    card.dataset.stage = fresh.dataset.stage;
    Console.localTimes(card);
    markCard(card);
  }

  async function onAlert(message, received) {
    lastId = Math.max(lastId, message.id);
    if (seenLooks.has(message.id) || cardOf(message.id)) return;
    seenLooks.add(message.id);
    const card = await fetchCard(message.id);
    if (!card) return;
    const existing = episodeCard(card.dataset.episodeId);
    if (existing) {
      mergeLooks(existing, card);
      window.openlfrTimings.push({ id: message.id, episode: Number(card.dataset.episodeId), joined: true, received, inserted: now() });
      cue(message, true);
      return;
    }
    if (cardOf(card.dataset.alertId)) return;
    queue.append(card); // the end of the queue: nothing above moves
    const inserted = now();
    Console.localTimes(card);
    markCard(card);
    card.classList.add("new");
    card.dataset.receivedAt = String(received);
    card.dataset.shownAt = String(inserted);
    const timing = { id: message.id, created_at: message.created_at, captured_at: message.captured_at, received, inserted, images: null };
    window.openlfrTimings.push(timing);
    const images = [...card.querySelectorAll("img")];
    images.forEach(retryImage);
    Promise.all(images.map((img) => (img.complete ? Promise.resolve() : new Promise((done) => {
      img.addEventListener("load", done, { once: true });
      img.addEventListener("error", done, { once: true });
    })))).then(() => {
      timing.images = now();
      card.dataset.imagesAt = String(timing.images);
    });
    updateCount(1);
    noteLive(card);
    cue(message, false);
  }

  // A deployment that went live after the page opened joins the list of live ones.
  function noteLive(card) {
    const list = document.getElementById("live-list");
    const id = card.dataset.deploymentId;
    if (!list || list.querySelector(`[data-deployment-id="${id}"]`)) return;
    if (!list.querySelector("a")) list.textContent = "live: ";
    else list.append(", ");
    const link = document.createElement("a");
    link.href = `/console/deployments/${id}`;
    link.dataset.deploymentId = id;
    link.textContent = card.dataset.deploymentName || `deployment ${id}`;
    list.append(link);
  }

  // A picture cut off by a dropped connection is fetched again once it is back.
  function retryImage(img) {
    const source = img.getAttribute("src");
    let tries = 0;
    img.addEventListener("error", () => {
      if (tries >= 20) return;
      tries += 1;
      setTimeout(() => { img.src = `${source}?try=${tries}`; }, 2000);
    });
  }

  function updateCount(delta) {
    const n = Math.max(0, Number(countEl.textContent || 0) + delta);
    countEl.textContent = String(n);
    document.title = n ? `(${n}) ${baseTitle}` : baseTitle;
  }

  function markCard(card) {
    if (!card) return;
    const id = Number(card.dataset.alertId);
    let claim = claims.get(id);
    if (claim && claim.expires_at * 1000 < Date.now()) { claims.delete(id); claim = undefined; }
    const note = card.querySelector("[data-taken]");
    const takeover = card.querySelector("[data-takeover]");
    const step1 = card.querySelectorAll("[data-step1] button");
    const othersClaim = claim && claim.user_id !== me;
    card.classList.toggle("taken", Boolean(othersClaim));
    card.classList.toggle("mine", Boolean(claim && !othersClaim));
    if (note) {
      note.hidden = !claim;
      note.textContent = !claim ? "" : othersClaim ? `Taken: being handled by ${claim.display_name}` : "You are handling this alert";
    }
    step1.forEach((b) => { b.disabled = Boolean(othersClaim); });
    if (takeover) takeover.hidden = !othersClaim;
    if (othersClaim) hideStep2(card);
  }

  function showStep2(card, decision) {
    const step2 = card.querySelector("[data-step2]");
    card.dataset.decision = decision;
    step2.querySelectorAll("[data-for]").forEach((group) => { group.hidden = group.dataset.for !== decision; });
    step2.hidden = false;
    card.querySelectorAll("[data-step1] button").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.decision === decision));
    });
    const first = step2.querySelector(`[data-for="${decision}"] button`);
    if (first) first.focus();
  }

  function hideStep2(card) {
    const step2 = card && card.querySelector("[data-step2]");
    if (!step2 || step2.hidden) return;
    step2.hidden = true;
    delete card.dataset.decision;
    card.querySelectorAll("[data-step1] button").forEach((b) => b.removeAttribute("aria-pressed"));
  }

  function settle(card, id, decision, outcome, by, verification) {
    // The console that decided hears of its own decision again from the stream: one row each.
    const episode = card ? card.dataset.episodeId : `a${id}`;
    if (decidedBody.querySelector(`tr[data-episode-id="${episode}"], tr[data-alert-id="${id}"]`)) {
      if (card) removeCard(card);
      return;
    }
    const label = (v) => (v ? v.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase()) : "—");
    const row = document.createElement("tr");
    const looks = card ? card.querySelector("[data-looks]") : null;
    const cells = [
      card ? `#${episode}` : "",
      card ? card.querySelector("h2").textContent.split(" — ")[0] : "",
      looks ? looks.textContent : "",
      label(decision),
      label(outcome),
      label(verification || (card && card.dataset.stage !== "open" ? card.dataset.stage.replace("to_confirm", "disputed") : "")),
      by,
    ];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      row.appendChild(td);
    }
    row.dataset.episodeId = String(episode);
    row.dataset.alertId = String(id);
    decidedBody.prepend(row);
    if (card) removeCard(card);
  }

  function removeCard(card) {
    if (!card.isConnected) return; // already gone (the stream and the reply both settle it)
    const hadFocus = card.contains(document.activeElement);
    const next = card.nextElementSibling || card.previousElementSibling;
    card.remove();
    updateCount(-1);
    if (hadFocus) (next || document.getElementById("main")).focus();
  }

  async function claim(card, force) {
    const id = card.dataset.alertId;
    const c = await Console.api("POST", `/console/api/alerts/${id}/claim${force ? "?force=true" : ""}`);
    claims.set(c.alert_id, c);
    markCard(card);
  }

  function problem(card, err) {
    if (err.code === "already_adjudicated") {
      announce(`Alert ${card.dataset.alertId} was already decided by someone else.`);
      settle(card, Number(card.dataset.alertId), null, null, "another operator");
      return;
    }
    if (err.code === "taken") markCard(card);
    Console.showErrors(card.querySelector(".decide"), err, null);
  }

  queue.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    const card = event.target.closest("article.card");
    if (!button || !card) return;
    const errors = card.querySelector("[data-errors]");
    if (errors) errors.hidden = true;
    try {
      if (button.dataset.decision) {
        await claim(card, false); // click 1: take it, pick the decision
        showStep2(card, button.dataset.decision);
      } else if ("outcome" in button.dataset) {
        button.disabled = true; // click 2: record it
        const notes = card.querySelector("[data-notes]");
        const decision = card.dataset.decision;
        const ep = await Console.api("POST", `/console/api/episodes/${card.dataset.episodeId}/decision`, {
          decision,
          outcome: button.dataset.outcome || null,
          notes: notes ? notes.value : "",
        });
        const id = Number(card.dataset.alertId);
        claims.delete(id);
        if (ep.decided_at) {
          announce(`${ep.subject_reference}: recorded ${ep.decision.replaceAll("_", " ")}.`);
          const by = [ep.proposed_by_person, ep.checked_by_person].filter(Boolean);
          if (!by.length) by.push(me ? document.querySelector("header .who strong").textContent : "");
          settle(card, id, ep.decision, button.dataset.outcome || null, by.join(" and "), ep.verification);
        } else {
          announce(ep.verification === "proposed"
            ? `${ep.subject_reference}: engagement proposed. A second person must confirm it.`
            : `${ep.subject_reference}: engagement confirmed. Act now, then record the outcome.`);
          await refreshDecide(card);
          const first = card.querySelector("[data-step1] button");
          (first || card).focus();
          Console.api("DELETE", `/console/api/alerts/${id}/claim`).catch(() => {});
        }
      } else if ("cancel" in button.dataset) {
        hideStep2(card);
        claims.delete(Number(card.dataset.alertId));
        markCard(card);
        card.querySelector("[data-step1] button").focus(); // keep the keyboard where it was
        await Console.api("DELETE", `/console/api/alerts/${card.dataset.alertId}/claim`);
      } else if ("takeover" in button.dataset) {
        await claim(card, true);
        card.querySelector("[data-step1] button").focus();
      }
    } catch (err) {
      button.disabled = false;
      problem(card, err);
    }
  });

  queue.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const card = event.target.closest("article.card");
    const cancel = card && card.querySelector("[data-step2]:not([hidden]) [data-cancel]");
    if (cancel) cancel.click();
  });

  // ----- keyboard shortcuts (listed on the page) ------------------------------------------
  function currentCard() {
    const inside = document.activeElement && document.activeElement.closest("article.card");
    return inside || queue.querySelector("article.card");
  }

  function focusCard(card) {
    if (!card) return;
    card.focus();
    card.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (typing) return;
    const key = event.key.toLowerCase();
    const card = currentCard();
    if (!card) return;
    if (key === "j" || key === "k") {
      const cards = [...queue.querySelectorAll("article.card")];
      const at = cards.indexOf(card);
      const inside = document.activeElement && document.activeElement.closest("article.card");
      focusCard(inside ? cards[at + (key === "j" ? 1 : -1)] || card : card);
      event.preventDefault();
      return;
    }
    const pick = { e: "engaged", n: "not_engaged", x: "false_alert" }[key];
    let button = null;
    if (pick) button = card.querySelector(`[data-step1] [data-decision="${pick}"]:not(:disabled)`);
    else if (/^[1-4]$/.test(key)) {
      const group = card.querySelector("[data-step2]:not([hidden]) [data-for]:not([hidden])");
      button = group ? group.querySelectorAll("button")[Number(key) - 1] : null;
    }
    if (button) {
      event.preventDefault();
      button.click();
    }
  });

  // ----- how long each card has waited ----------------------------------------------------
  function waited(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  }

  setInterval(() => {
    for (const el of queue.querySelectorAll("[data-waited]")) {
      const since = Date.parse(el.dataset.since);
      if (!Number.isNaN(since)) el.textContent = waited(Date.now() - since);
    }
  }, 1000);

  // ----- cues ----------------------------------------------------------------------------
  let audio = null;
  let soundOn = false;

  function beep() {
    if (!audio) return;
    const t = audio.currentTime;
    [[0, 880], [0.2, 1175]].forEach(([offset, freq]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      osc.connect(gain);
      gain.connect(audio.destination);
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, t + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.16);
      osc.start(t + offset);
      osc.stop(t + offset + 0.18);
    });
  }

  soundButton.addEventListener("click", () => {
    soundOn = !soundOn;
    if (soundOn && !audio) audio = new AudioContext(); // browsers allow sound after a click
    soundButton.setAttribute("aria-pressed", String(soundOn));
    soundButton.textContent = soundOn ? "Sound on" : "Sound off";
    if (soundOn) beep();
  });

  function announce(text) {
    announcer.textContent = "";
    setTimeout(() => { announcer.textContent = text; }, 50);
  }

  function cue(message, again) {
    if (soundOn && !again) beep();
    announce(again
      ? `${message.subject_reference} seen again, camera ${message.camera}: added to their card.`
      : `New alert: ${message.subject_reference}, camera ${message.camera}, score ${message.score.toFixed(2)}.`);
  }

  // Claims lapse on the server after a few minutes: drop lapsed ones here too.
  setInterval(() => queue.querySelectorAll("article.card.taken, article.card.mine").forEach(markCard), 5000);

  queue.querySelectorAll("article.card img").forEach(retryImage);
  openAlerts();
  openEvents();
})();
