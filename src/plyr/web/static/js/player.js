// The player: one <audio> in a bar outside the page content, so htmx navigation never
// interrupts it. The queue lives in localStorage, on the server for signed-in listeners
// (with a revision: a stale write gets the newer queue back), and in step across tabs via
// BroadcastChannel; only one tab plays at a time.

const body = document.body;
const signedIn = body.dataset.signedIn === "true";
const bar = document.getElementById("player");
const audio = document.getElementById("player-audio");
const panel = document.getElementById("queue-panel");
const list = document.getElementById("queue-list");
const seek = bar.querySelector("[data-player-seek]");
const volume = bar.querySelector("[data-player-volume]");
const toggleButton = bar.querySelector('[data-player="toggle"]');
const tabId = Math.random().toString(36).slice(2);
const channel = "BroadcastChannel" in window ? new BroadcastChannel("plyr-player") : null;
const STORE = "plyr.queue";
const baseTitle = document.title;

let state = { revision: 0, tracks: [], current: 0, position_ms: 0, shuffle: false, repeat: false };
let listen = null; // { token, threshold, heard, last, reported }
let saveTimer = null;

// --- state ---------------------------------------------------------------------------

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "null");
    if (saved && Array.isArray(saved.tracks)) state = { ...state, ...saved };
  } catch {
    /* a broken store starts empty */
  }
}

function persist({ server = true, broadcast = true } = {}) {
  state.position_ms = Math.round((audio.currentTime || 0) * 1000);
  localStorage.setItem(STORE, JSON.stringify(state));
  if (broadcast && channel) channel.postMessage({ type: "queue", state, from: tabId });
  if (server && signedIn) {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveToServer, 400);
  }
}

async function saveToServer() {
  const response = await fetch("/api/queue", {
    method: "PUT",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": body.dataset.csrf },
    body: JSON.stringify({
      revision: state.revision,
      track_ids: state.tracks.map((t) => t.id),
      current: state.current,
      position_ms: state.position_ms,
    }),
  });
  if (response.ok || response.status === 409) {
    const server = await response.json();
    if (response.status === 409) toast("the queue changed on another device: loaded it");
    adoptServer(server, response.status === 409);
  }
}

function adoptServer(server, replaceTracks) {
  state.revision = server.revision;
  if (replaceTracks) {
    state.tracks = server.tracks;
    state.current = server.current;
    render();
  }
  localStorage.setItem(STORE, JSON.stringify(state));
  if (channel) channel.postMessage({ type: "queue", state, from: tabId });
}

async function fetchServerQueue() {
  if (!signedIn) return;
  const response = await fetch("/api/queue", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const server = await response.json();
  if (server.revision >= state.revision) {
    const same = server.tracks.map((t) => t.id).join() === state.tracks.map((t) => t.id).join();
    adoptServer(server, !same);
    if (!same) loadCurrent(server.position_ms / 1000, false);
  }
}

// --- playback ------------------------------------------------------------------------

function currentTrack() {
  return state.tracks[state.current] || null;
}

function loadCurrent(startAt = 0, play = false) {
  const track = currentTrack();
  bar.hidden = !track;
  if (!track) {
    audio.removeAttribute("src");
    return;
  }
  if (audio.dataset.trackId !== String(track.id)) {
    audio.src = track.audio_url;
    audio.dataset.trackId = String(track.id);
    listen = null;
  }
  if (startAt) {
    audio.addEventListener("loadedmetadata", () => (audio.currentTime = startAt), { once: true });
  }
  applyGain(track);
  showNowPlaying(track);
  if (play) start();
}

async function start() {
  try {
    await audio.play();
  } catch {
    /* autoplay refused until the user interacts; the play button stays available */
  }
}

function applyGain(track) {
  // Loudness levelling through the element's volume: loud tracks are turned down to the
  // others' level. Boosting quiet ones would need Web Audio, which goes silent for media
  // redirected to another origin (S3) without CORS; so levelling only ever cuts.
  const db = localStorage.getItem("plyr.normalize") === "off" ? 0 : Number(track?.gain_db || 0);
  audio.volume = userVolume() * Math.min(1, Math.pow(10, db / 20));
}

function userVolume() {
  return Number(localStorage.getItem("plyr.volume") || 1);
}

function showNowPlaying(track) {
  const title = bar.querySelector(".player-title");
  title.textContent = track.title;
  title.href = `/tracks/${track.id}`;
  bar.querySelector(".player-artist").textContent = track.artist;
  const art = bar.querySelector(".player-art");
  art.hidden = !track.thumbnail_url;
  if (track.thumbnail_url) art.src = track.thumbnail_url;
  if ("mediaSession" in navigator) {
    navigator.mediaSession.metadata = new MediaMetadata({
      title: track.title,
      artist: track.artist,
      album: track.album || "",
      artwork: track.image_url ? [{ src: track.image_url, sizes: "512x512" }] : [],
    });
  }
}

function go(index, play = true) {
  if (!state.tracks.length) return;
  const last = state.tracks.length - 1;
  if (index > last) {
    if (!state.repeat) return;
    index = 0;
  }
  state.current = Math.max(0, index);
  loadCurrent(0, play);
  persist();
  render();
}

function next() {
  if (state.shuffle && state.tracks.length > 1) {
    let pick = state.current;
    while (pick === state.current) pick = Math.floor(Math.random() * state.tracks.length);
    go(pick);
  } else {
    go(state.current + 1);
  }
}

function previous() {
  if (audio.currentTime > 3) audio.currentTime = 0;
  else go(state.current - 1);
}

async function fetchTrack(id) {
  const response = await fetch(`/api/tracks/${id}`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error("that track is not available");
  return response.json();
}

async function playNow(id) {
  const track = await fetchTrack(id);
  const existing = state.tracks.findIndex((t) => t.id === track.id);
  if (existing >= 0) state.current = existing;
  else {
    state.tracks.splice(state.current + (state.tracks.length ? 1 : 0), 0, track);
    state.current = state.tracks.indexOf(track);
  }
  loadCurrent(0, true);
  persist();
  render();
}

async function enqueue(id, { nextUp = false } = {}) {
  try {
    const track = await fetchTrack(id);
    if (nextUp) state.tracks.splice(state.current + 1, 0, track);
    else state.tracks.push(track);
    if (state.tracks.length === 1) loadCurrent(0, false);
    persist();
    render();
    toast(nextUp ? `“${track.title}” plays next` : `added “${track.title}” to the queue`);
  } catch (error) {
    toast(error.message, true);
  }
}

function move(from, to) {
  if (to < 0 || to >= state.tracks.length || from === to) return;
  const playing = currentTrack();
  const [moved] = state.tracks.splice(from, 1);
  state.tracks.splice(to, 0, moved);
  state.current = state.tracks.indexOf(playing);
  persist();
  render();
}

function remove(index) {
  const playing = currentTrack();
  state.tracks.splice(index, 1);
  if (index === state.current) {
    state.current = Math.min(index, state.tracks.length - 1);
    loadCurrent(0, !audio.paused);
  } else {
    state.current = Math.max(0, state.tracks.indexOf(playing));
  }
  persist();
  render();
}

// --- play counting (30 % of the track or 30 s, reported once per listen) --------------

async function beginListen(track) {
  const response = await fetch(`/api/tracks/${track.id}/listens`, { method: "POST" });
  if (!response.ok) return;
  const data = await response.json();
  listen = { token: data.listen_token, threshold: data.threshold_ms, heard: 0, last: null, reported: false };
}

function countListening() {
  if (!listen || listen.reported || audio.paused) return;
  const now = audio.currentTime;
  if (listen.last !== null && now > listen.last && now - listen.last < 2) {
    listen.heard += (now - listen.last) * 1000;
  }
  listen.last = now;
  if (listen.heard >= listen.threshold) {
    listen.reported = true;
    fetch("/api/plays", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ listen_token: listen.token, listened_ms: Math.round(listen.heard) }),
    });
  }
}

// --- now playing (signed-in listeners; GET /api/now-playing/{did} shows it) ------------

const NOW_PLAYING_EVERY_MS = 15000;
let nowPlayingAt = 0;
let pausedByOtherTab = false;

function reportNowPlaying() {
  const track = currentTrack();
  if (!signedIn || !track || audio.dataset.trackId !== String(track.id)) return;
  nowPlayingAt = Date.now();
  fetch("/api/now-playing", {
    method: "PUT",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": body.dataset.csrf },
    body: JSON.stringify({
      track_id: track.id,
      position_ms: Math.round((audio.currentTime || 0) * 1000),
      paused: audio.paused,
    }),
    keepalive: true,
  }).catch(() => {});
}

function stopNowPlaying() {
  if (!signedIn || !nowPlayingAt) return;
  nowPlayingAt = 0;
  // A beacon survives the page unloading; it cannot set headers, so the token is a field.
  const form = new URLSearchParams({ csrf_token: body.dataset.csrf || "" });
  if (!navigator.sendBeacon?.("/api/now-playing/stop", form)) {
    fetch("/api/now-playing/stop", { method: "POST", body: form, keepalive: true }).catch(() => {});
  }
}

// --- rendering -----------------------------------------------------------------------

function clock(seconds) {
  if (!Number.isFinite(seconds)) return "0:00";
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function render() {
  bar.hidden = !currentTrack();
  panel.querySelector("[data-queue-empty]").hidden = state.tracks.length > 0;
  panel.querySelector("[data-queue-shuffle]").setAttribute("aria-pressed", String(state.shuffle));
  panel.querySelector("[data-queue-repeat]").setAttribute("aria-pressed", String(state.repeat));
  list.replaceChildren(
    ...state.tracks.map((track, index) => {
      const item = document.createElement("li");
      item.className = "queue-item";
      item.draggable = true;
      item.dataset.index = String(index);
      if (index === state.current) item.setAttribute("aria-current", "true");
      item.innerHTML = `
        <span class="grip" aria-hidden="true">⋮⋮</span>
        <button type="button" class="queue-play link-button keep-case"></button>
        <span class="queue-buttons">
          <button type="button" class="icon-button small-icon" data-move="-1" aria-label="move up">↑</button>
          <button type="button" class="icon-button small-icon" data-move="1" aria-label="move down">↓</button>
          <button type="button" class="icon-button small-icon" data-remove aria-label="remove">✕</button>
        </span>`;
      const label = item.querySelector(".queue-play");
      label.textContent = `${track.title} · ${track.artist}`;
      label.setAttribute("aria-label", `play ${track.title}`);
      return item;
    }),
  );
}

function updateTime() {
  const duration = audio.duration || 0;
  seek.max = String(Math.floor(duration));
  seek.value = String(Math.floor(audio.currentTime));
  seek.setAttribute("aria-valuetext", clock(audio.currentTime));
  bar.querySelector("[data-player-time]").textContent = clock(audio.currentTime);
  bar.querySelector("[data-player-duration]").textContent = clock(duration);
}

function showTitle() {
  // The tab says what plays; pages (swapped in by htmx) bring their own title otherwise.
  const track = currentTrack();
  const page = document.querySelector("main h1")?.textContent?.trim();
  document.title = !audio.paused && track ? `▶ ${track.title} · ${track.artist}` : page ? `${page} · plyr` : baseTitle;
}

function toast(message, failed = false) {
  let region = document.getElementById("toasts");
  if (!region) {
    region = Object.assign(document.createElement("div"), { id: "toasts", className: "toasts" });
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  const note = Object.assign(document.createElement("p"), { className: failed ? "toast failed" : "toast", textContent: message });
  region.append(note);
  setTimeout(() => note.remove(), 4000);
}

// --- events --------------------------------------------------------------------------

audio.addEventListener("play", () => {
  toggleButton.dataset.playing = "true";
  toggleButton.setAttribute("aria-label", "pause");
  const track = currentTrack();
  showTitle();
  if (channel) channel.postMessage({ type: "playing", from: tabId });
  if (track && !listen) beginListen(track);
  pausedByOtherTab = false;
  reportNowPlaying();
});
audio.addEventListener("pause", () => {
  delete toggleButton.dataset.playing;
  toggleButton.setAttribute("aria-label", "play");
  showTitle();
  persist({ broadcast: false });
  if (!currentTrack()) stopNowPlaying();
  else if (!pausedByOtherTab && !audio.ended) reportNowPlaying(); // the playing tab reports
});
audio.addEventListener("seeked", () => {
  if (nowPlayingAt) reportNowPlaying();
});
audio.addEventListener("timeupdate", () => {
  updateTime();
  countListening();
  if (!audio.paused && Date.now() - nowPlayingAt >= NOW_PLAYING_EVERY_MS) reportNowPlaying();
});
audio.addEventListener("loadedmetadata", updateTime);
audio.addEventListener("ended", () => {
  listen = null;
  if (localStorage.getItem("plyr.autoadvance") !== "off") next();
  if (audio.paused) stopNowPlaying(); // the end of the queue: nothing plays
});

document.addEventListener("click", (event) => {
  const target = event.target.closest("button, [data-play-track]");
  if (!target) return;
  if (target.dataset.playTrack) return playNow(Number(target.dataset.playTrack)).catch((e) => toast(e.message, true));
  if (target.dataset.queueAdd) return enqueue(Number(target.dataset.queueAdd));
  if (target.dataset.queueNext) return enqueue(Number(target.dataset.queueNext), { nextUp: true });
  const action = target.dataset.player;
  if (action === "toggle") return audio.paused ? start() : audio.pause();
  if (action === "next") return next();
  if (action === "previous") return previous();
  if (target.hasAttribute("data-queue-toggle") || target.hasAttribute("data-queue-close")) {
    panel.hidden = !panel.hidden;
    bar.querySelector("[data-queue-toggle]").setAttribute("aria-expanded", String(!panel.hidden));
    return;
  }
  if (target.hasAttribute("data-queue-clear")) {
    audio.pause();
    state.tracks = [];
    state.current = 0;
    loadCurrent();
    persist();
    return render();
  }
  if (target.hasAttribute("data-queue-shuffle")) {
    state.shuffle = !state.shuffle;
    persist({ server: false });
    return render();
  }
  if (target.hasAttribute("data-queue-repeat")) {
    state.repeat = !state.repeat;
    persist({ server: false });
    return render();
  }
  const item = target.closest(".queue-item");
  if (!item) return;
  const index = Number(item.dataset.index);
  if (target.classList.contains("queue-play")) return go(index);
  if (target.dataset.move) return move(index, index + Number(target.dataset.move));
  if (target.hasAttribute("data-remove")) return remove(index);
});

seek.addEventListener("input", () => (audio.currentTime = Number(seek.value)));
volume.addEventListener("input", () => {
  localStorage.setItem("plyr.volume", volume.value);
  applyGain(currentTrack());
});

// Drag to reorder (desktop); the ↑ ↓ buttons do the same on touch screens and keyboards.
let dragFrom = null;
list.addEventListener("dragstart", (event) => {
  const item = event.target.closest(".queue-item");
  dragFrom = item ? Number(item.dataset.index) : null;
  event.dataTransfer?.setData("text/plain", String(dragFrom));
});
list.addEventListener("dragover", (event) => event.preventDefault());
list.addEventListener("drop", (event) => {
  event.preventDefault();
  const item = event.target.closest(".queue-item");
  if (item && dragFrom !== null) move(dragFrom, Number(item.dataset.index));
  dragFrom = null;
});

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  if (typing || event.metaKey || event.ctrlKey || event.altKey) return;
  if (event.key === " " && currentTrack()) {
    event.preventDefault();
    audio.paused ? start() : audio.pause();
  } else if (event.key === "ArrowRight" && currentTrack()) {
    event.shiftKey ? next() : (audio.currentTime += 5);
  } else if (event.key === "ArrowLeft" && currentTrack()) {
    event.shiftKey ? previous() : (audio.currentTime = Math.max(0, audio.currentTime - 5));
  } else if (event.key === "q") {
    panel.hidden = !panel.hidden;
  } else if (event.key === "?") {
    document.getElementById("shortcuts").showModal();
  }
});

if (channel) {
  channel.addEventListener("message", ({ data }) => {
    if (data.from === tabId) return;
    if (data.type === "playing" && !audio.paused) {
      pausedByOtherTab = true; // only one tab plays, and that one reports now playing
      nowPlayingAt = 0;
      audio.pause();
    }
    if (data.type === "queue") {
      const playing = currentTrack()?.id;
      state = { ...data.state };
      localStorage.setItem(STORE, JSON.stringify(state));
      if (currentTrack()?.id !== playing) loadCurrent(0, false);
      render();
    }
  });
}

if ("mediaSession" in navigator) {
  navigator.mediaSession.setActionHandler("play", () => start());
  navigator.mediaSession.setActionHandler("pause", () => audio.pause());
  navigator.mediaSession.setActionHandler("nexttrack", () => next());
  navigator.mediaSession.setActionHandler("previoustrack", () => previous());
  navigator.mediaSession.setActionHandler("seekto", (details) => (audio.currentTime = details.seekTime));
}

window.addEventListener("pagehide", () => {
  persist({ broadcast: false });
  stopNowPlaying();
});
document.addEventListener("htmx:afterSettle", () => {
  if (!audio.paused) showTitle();
});

// --- start ---------------------------------------------------------------------------

load();
volume.value = String(userVolume());
loadCurrent(state.position_ms / 1000, false);
render();
fetchServerQueue();
window.plyrPlayer = { state: () => state, audio };
