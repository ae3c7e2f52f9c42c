// What listeners do to the queue: move through it (next, previous, a chosen track), play a
// track now, add one at the end or next up, reorder and remove. Each change is kept
// (queue-sync.js) and shown (queue-panel.js).

import { audio } from "./elements.js";
import { announcePlaying, loadCurrent, prime, unprime } from "./playback.js";
import { render } from "./queue-panel.js";
import { currentTrack, state } from "./queue-state.js";
import { persist } from "./queue-sync.js";
import { toast } from "./toast.js";

export function go(index, play = true) {
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

export function next() {
  if (state.shuffle && state.tracks.length > 1) {
    let pick = state.current;
    while (pick === state.current) pick = Math.floor(Math.random() * state.tracks.length);
    go(pick);
  } else {
    go(state.current + 1);
  }
}

export function previous() {
  if (audio.currentTime > 3) audio.currentTime = 0;
  else go(state.current - 1);
}

async function fetchTrack(id) {
  const response = await fetch(`/api/tracks/${id}`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error("that track is not available");
  return response.json();
}

// Tracks clicked in quick succession are fetched at once but join the queue in the order
// they were clicked: an "add" right after ▶ must not land first because its answer did.
let joining = Promise.resolve();

function inClickOrder(id, join) {
  const fetched = fetchTrack(id);
  const joined = joining.then(() => fetched).then(join);
  joining = joined.catch(() => {});
  return joined;
}

export async function playNow(id) {
  const [startAt, wasPlaying] = [audio.currentTime || 0, !audio.paused];
  const primed = prime(id); // the sound starts while the details are on their way
  try {
    await inClickOrder(id, (track) => {
      const existing = state.tracks.findIndex((t) => t.id === track.id);
      if (existing >= 0) state.current = existing;
      else {
        state.tracks.splice(state.current + (state.tracks.length ? 1 : 0), 0, track);
        state.current = state.tracks.indexOf(track);
      }
      loadCurrent(0, true);
      if (primed && !audio.paused) announcePlaying(); // its `play` came before the queue had it
      persist();
      render();
    });
  } catch (error) {
    if (audio.dataset.trackId === String(id)) {
      if (primed) unprime(startAt, wasPlaying); // back to what the queue holds
      else if (!wasPlaying) audio.pause();
    }
    throw error;
  }
}

export async function enqueue(id, { nextUp = false } = {}) {
  try {
    await inClickOrder(id, (track) => {
      if (nextUp) state.tracks.splice(state.current + 1, 0, track);
      else state.tracks.push(track);
      if (state.tracks.length === 1) loadCurrent(0, false);
      persist();
      render();
      toast(nextUp ? `“${track.title}” plays next` : `added “${track.title}” to the queue`);
    });
  } catch (error) {
    toast(error.message, true);
  }
}

export function move(from, to) {
  if (to < 0 || to >= state.tracks.length || from === to) return;
  const playing = currentTrack();
  const [moved] = state.tracks.splice(from, 1);
  state.tracks.splice(to, 0, moved);
  state.current = state.tracks.indexOf(playing);
  persist();
  render();
}

export function remove(index) {
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
