// The queue: its tracks, which one is current, where it stood, shuffle (with its order, see
// queue-order.js) and repeat ("off", "all", "one"). Kept in localStorage (under STORE), so a
// reload or a new tab starts where the listener left off; the server keeps the tracks, the
// current one and the position (queue-sync.js), shuffle and repeat stay with the device.

import { newSeed, repairedOrder, repeatMode } from "./queue-order.js";

export const STORE = "plyr.queue";

export let state = {
  revision: 0,
  tracks: [],
  current: 0,
  position_ms: 0,
  shuffle: false,
  repeat: "off",
  order: [],
  seed: newSeed(),
};

/** Another tab's queue replaces this one's (importers cannot assign `state` themselves). */
export function replaceState(next) {
  state = next;
  tidy();
}

/** Shuffle and repeat as they should be whatever was saved (old saves: `repeat: true`), and
 * the shuffled order a permutation of the tracks again after they were replaced. */
export function tidy() {
  state.repeat = repeatMode(state.repeat);
  state.shuffle = Boolean(state.shuffle);
  if (!Number.isInteger(state.seed)) state.seed = newSeed();
  state.order = state.shuffle ? repairedOrder(state.order, state.tracks.length, state.current) : [];
}

export function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "null");
    if (saved && Array.isArray(saved.tracks)) state = { ...state, ...saved };
  } catch {
    /* a broken store starts empty */
  }
  tidy();
}

export function currentTrack() {
  return state.tracks[state.current] || null;
}
