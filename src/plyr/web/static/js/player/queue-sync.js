// Keeping the queue: in localStorage, on the server for signed-in listeners (PUT /api/queue
// with a revision: a stale write gets the newer queue back, 409), and in step across tabs via
// BroadcastChannel, where only one tab plays at a time.

import { audio, body, signedIn } from "./elements.js";
import { yieldToOtherTab } from "./now-playing.js";
import { loadCurrent } from "./playback.js";
import { render } from "./queue-panel.js";
import { currentTrack, replaceState, state, STORE, tidy } from "./queue-state.js";
import { toast } from "./toast.js";

export const tabId = Math.random().toString(36).slice(2);
export const channel = "BroadcastChannel" in window ? new BroadcastChannel("plyr-player") : null;

let saveTimer = null;

export function persist({ server = true, broadcast = true } = {}) {
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
    tidy(); // the shuffled order follows the new tracks
    render();
  }
  localStorage.setItem(STORE, JSON.stringify(state));
  if (channel) channel.postMessage({ type: "queue", state, from: tabId });
}

export async function fetchServerQueue() {
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

if (channel) {
  channel.addEventListener("message", ({ data }) => {
    if (data.from === tabId) return;
    if (data.type === "playing" && !audio.paused) {
      yieldToOtherTab(); // only one tab plays, and that one reports now playing
      audio.pause();
    }
    if (data.type === "queue") {
      const playing = currentTrack()?.id;
      replaceState({ ...data.state });
      localStorage.setItem(STORE, JSON.stringify(state));
      if (currentTrack()?.id !== playing) loadCurrent(0, false);
      render();
    }
  });
}
