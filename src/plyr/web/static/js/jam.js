// The jam page (templates/jam.html): follows the jam over /api/jams/{code}/events, keeps
// the page's own <audio id="jam-audio"> on the jam's timeline (player/jam-sync.js), and
// sends the host's controls. htmx swaps pages under us and this module runs once, so it
// starts on every page that has a [data-jam] and stops (sound and stream) when it is gone.
// The player bar pauses while the jam sounds, and the jam goes quiet if the bar plays.

import { ClockOffset, JamSync } from "./player/jam-sync.js";

const CLOCK_EVERY_MS = 1000; // one more clock sample this often (every 30 s after a minute)

let current = null; // { root, code, sync, events }

const csrf = () => document.body.dataset.csrf;
const clock = (ms) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let message = `${response.status}`;
    try {
      message = (await response.json()).error.message;
    } catch {
      /* not JSON: the status says enough */
    }
    throw new Error(message);
  }
  return response.status === 204 ? null : response.json();
}

function status(text) {
  const line = current?.root.querySelector("[data-jam-status]");
  if (line) line.textContent = text;
}

// The player bar's <audio> elements (it may keep two decks for gapless playback).
function pauseThePlayerBar() {
  document.querySelectorAll("#player audio").forEach((deck) => deck.pause());
}

function render(jam) {
  const { root, me } = current;
  const $ = (selector) => root.querySelector(selector);
  const hosting = jam.host.did === me;
  const member = jam.members.some((m) => m.did === me);
  root.dataset.member = String(member);
  root.dataset.hosting = String(hosting);
  root.dataset.version = String(jam.version);
  const others = jam.members.filter((m) => m.did !== me).map((m) => `@${m.handle}`);
  $("[data-jam-with]").textContent = jam.ended
    ? "this jam has ended"
    : others.length
      ? `listening with ${others.join(", ")}`
      : "nobody else here yet: share the link";
  $("[data-jam-title]").textContent = jam.track ? jam.track.title : "nothing playing";
  $("[data-jam-artist]").textContent = jam.track ? jam.track.artist : "";
  $("[data-jam-state]").textContent = jam.ended ? "ended" : jam.playing ? "playing" : "paused";
  const art = $("[data-jam-art]");
  const picture = jam.track && (jam.track.thumbnail_url || jam.track.image_url);
  art.hidden = !picture;
  if (picture && art.getAttribute("src") !== picture) art.src = picture;
  const seek = $("[data-jam-seek]");
  seek.max = String(jam.track && jam.track.duration ? jam.track.duration : 0);
  seek.disabled = !hosting || !jam.track || jam.ended;
  $("[data-jam-duration]").textContent = clock((jam.track?.duration || 0) * 1000);
  const controls = $("[data-jam-host-controls]");
  controls.hidden = !hosting || jam.ended;
  const toggle = controls.querySelector('[data-jam-action="toggle"]');
  toggle.toggleAttribute("data-playing", jam.playing);
  toggle.setAttribute("aria-label", jam.playing ? "pause for everyone" : "play for everyone");
  $("[data-jam-add]").hidden = !hosting || jam.ended;
  $("[data-jam-join]").hidden = member || jam.ended;
  $("[data-jam-leave]").hidden = !member || jam.ended;
  $("[data-jam-end]").hidden = !hosting || jam.ended;
  $("[data-jam-listen]").hidden = !member || jam.ended || current.sync.listening;

  const members = $("[data-jam-members]");
  members.replaceChildren(
    ...jam.members.map((m) => {
      const li = document.createElement("li");
      const name = Object.assign(document.createElement("span"), { className: "keep-case", textContent: `@${m.handle}` });
      li.append(name);
      if (m.did === jam.host.did) li.append(" ", Object.assign(document.createElement("span"), { className: "jam-badge", textContent: "host" }));
      if (m.did === me) li.append(" ", Object.assign(document.createElement("span"), { className: "muted small", textContent: "(you)" }));
      if (hosting && m.did !== me && !jam.ended) {
        const give = Object.assign(document.createElement("button"), { type: "button", className: "link-button", textContent: "make host" });
        give.dataset.jamHandOver = m.did;
        give.setAttribute("aria-label", `make @${m.handle} the host`);
        li.append(" ", give);
      }
      return li;
    }),
  );
  const queue = $("[data-jam-queue]");
  queue.replaceChildren(
    ...jam.queue.map((t) => {
      const li = Object.assign(document.createElement("li"), { className: "keep-case", textContent: t.title });
      li.append(" ", Object.assign(document.createElement("span"), { className: "muted", textContent: `· ${t.artist}` }));
      return li;
    }),
  );
  $("[data-jam-queue-empty]").hidden = jam.queue.length > 0;
  if (jam.ended) status("the host ended this jam");
}

function apply(jam) {
  if (!current) return;
  // An answer older than what the stream already brought changes nothing.
  if (current.jam && jam.version < current.jam.version) return;
  current.jam = jam;
  current.sync.apply(jam);
  render(jam);
  if (jam.ended) stopStream();
}

function stopStream() {
  current?.events?.close();
  if (current) current.events = null;
}

function listen() {
  const { sync } = current;
  pauseThePlayerBar();
  sync.listening = true;
  current.root.querySelector("[data-jam-listen]").hidden = true;
  status("");
  sync.tick();
}

async function control(body) {
  try {
    apply(await call("POST", `/api/jams/${current.code}/control`, body));
  } catch (error) {
    status(error.message);
  }
}

async function onClick(event) {
  if (!current) return;
  const target = event.target.closest("button");
  if (!target || !current.root.contains(target)) return;
  const { code, jam } = current;
  try {
    if (target.hasAttribute("data-jam-join")) {
      listen(); // in the click itself: the browser lets a page play sound after a gesture
      apply(await call("POST", `/api/jams/${code}/members`));
    } else if (target.hasAttribute("data-jam-listen")) {
      listen();
    } else if (target.dataset.jamAction === "toggle") {
      if (!current.sync.listening) listen();
      await control({ action: jam.playing ? "pause" : "play" });
    } else if (target.dataset.jamAction === "next") {
      await control({ action: "next", ...(jam.track ? { from_track_id: jam.track.id } : {}) });
    } else if (target.dataset.jamHandOver) {
      apply(await call("PUT", `/api/jams/${code}/host`, { did: target.dataset.jamHandOver }));
    } else if (target.hasAttribute("data-jam-leave")) {
      await call("DELETE", `/api/jams/${code}/members/me`);
      current.sync.listening = false;
      current.sync.stop();
      apply(await call("GET", `/api/jams/${code}`));
      status("you left the jam");
    } else if (target.hasAttribute("data-jam-end")) {
      await call("DELETE", `/api/jams/${code}`);
      apply(await call("GET", `/api/jams/${code}`));
    }
  } catch (error) {
    status(error.message);
  }
}

function trackId(text) {
  const value = text.trim();
  const found = /^\d+$/.test(value) ? value : /\/tracks\/(\d+)/.exec(value)?.[1];
  return found ? Number(found) : null;
}

async function onSubmit(event) {
  const form = event.target.closest("[data-jam-add]");
  if (!form || !current) return;
  event.preventDefault();
  const id = trackId(form.elements.track.value);
  if (!id) return status("paste a track's link or its number");
  await control({ action: "add", track_id: id });
  form.reset();
}

function onSeek(event) {
  if (!current || !event.target.matches("[data-jam-seek]")) return;
  control({ action: "seek", position_ms: Math.round(Number(event.target.value) * 1000) });
}

async function start(root) {
  const code = root.dataset.jam;
  const audio = root.querySelector("#jam-audio");
  const sync = new JamSync(audio, {
    onBlocked: () => {
      const button = root.querySelector("[data-jam-listen]");
      if (current?.jam && !current.jam.ended) button.hidden = false;
      status("press listen to hear the jam");
    },
    onTick: (ms) => {
      const seek = root.querySelector("[data-jam-seek]");
      if (document.activeElement !== seek) seek.value = String(Math.floor(ms / 1000));
      seek.setAttribute("aria-valuetext", clock(ms));
      root.querySelector("[data-jam-time]").textContent = clock(ms);
    },
  });
  current = { root, code, me: root.dataset.me, sync, events: null, jam: null };
  root.querySelector("[data-jam-link]").value = `${location.origin}/jam/${code}`;
  // The host's player says when its track ended: the exact moment to move everyone on.
  audio.addEventListener("ended", () => {
    const jam = current?.jam;
    if (jam && jam.track && jam.host.did === current.me) control({ action: "next", from_track_id: jam.track.id });
  });
  const clockOffset = new ClockOffset();
  const adopt = (estimate) => {
    sync.offset = estimate.offset;
    root.dataset.clockOffset = String(Math.round(estimate.offset));
    root.dataset.clockRtt = String(Math.round(estimate.rtt));
  };
  adopt(await clockOffset.sample(10));
  if (current?.root !== root) return;
  let samples = 0;
  current.clock = setInterval(async () => {
    samples += 1;
    if (samples > 60 && samples % 30) return;
    adopt(await clockOffset.sample());
  }, CLOCK_EVERY_MS);
  sync.start();
  if (root.dataset.member === "true") listen();
  const events = new EventSource(`/api/jams/${code}/events`);
  events.addEventListener("jam", (event) => apply(JSON.parse(event.data)));
  current.events = events;
}

function stop() {
  if (!current) return;
  stopStream();
  clearInterval(current.clock);
  current.sync.stop();
  current = null;
}

function check() {
  const root = document.querySelector("[data-jam]");
  if (current && current.root !== root) stop();
  if (root && !current) start(root);
}

// Space on the jam page is the jam's: a focused button gets it as a press, elsewhere it is
// the host's play / pause; the player bar's shortcut (player/shortcuts.js) never sees it.
document.addEventListener(
  "keydown",
  (event) => {
    if (!current || event.key !== " " || event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    event.stopPropagation();
    if (event.target.closest("button")) return;
    event.preventDefault();
    const toggle = current.root.querySelector('[data-jam-action="toggle"]');
    if (!toggle.closest("[hidden]")) toggle.click();
  },
  true,
);
document.addEventListener("click", onClick);
document.addEventListener("submit", onSubmit);
document.addEventListener("change", onSeek);
document.addEventListener("htmx:afterSettle", check);
// The player bar started something: the jam goes quiet here until "listen".
// ("play" does not bubble: caught on the way down.)
document.getElementById("player")?.addEventListener("play", () => {
  if (!current || !current.sync.listening) return;
  current.sync.listening = false;
  current.sync.tick();
  if (current.jam && !current.jam.ended) current.root.querySelector("[data-jam-listen]").hidden = false;
}, true);
check();
