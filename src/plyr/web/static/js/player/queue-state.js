// The queue: its tracks, which one is current, where it stood, shuffle and repeat. Kept in
// localStorage (under STORE), so a reload or a new tab starts where the listener left off.

export const STORE = "plyr.queue";

export let state = { revision: 0, tracks: [], current: 0, position_ms: 0, shuffle: false, repeat: false };

/** Another tab's queue replaces this one's (importers cannot assign `state` themselves). */
export function replaceState(next) {
  state = next;
}

export function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "null");
    if (saved && Array.isArray(saved.tracks)) state = { ...state, ...saved };
  } catch {
    /* a broken store starts empty */
  }
}

export function currentTrack() {
  return state.tracks[state.current] || null;
}
