// What listeners do to the queue: move through it (next, previous, a chosen track), play a
// track now, add one at the end or next up, reorder and remove, shuffle and repeat. Which
// track comes next is decided in one place, `peekNext`. Each change is kept
// (queue-sync.js) and shown (queue-panel.js).

import { audio } from "./elements.js";
import { announcePlaying, loadCurrent, prime, unprime } from "./playback.js";
import { render } from "./queue-panel.js";
import { newSeed, nextCycle, reindexedOrder, REPEAT_MODES, startOrder } from "./queue-order.js";
import { state } from "./queue-state.js";
import { persist } from "./queue-sync.js";
import { toast } from "./toast.js";

/**
 * The index of the track that plays after the current one, or -1 when the queue ends there:
 * the one decision of what comes next, without side effects (transition.js asks ahead, to
 * load it before this one ends, then moves there with `go`). `ended` (the default): what
 * follows when the current track comes to its end, so repeat one plays it again; a skip
 * ("next") passes `ended: false` and moves on. Shuffled, the next in the order; past its
 * end, with repeat, the first of the next cycle (drawn from `state.seed`: known before).
 */
export function peekNext({ ended = true } = {}) {
  const count = state.tracks.length;
  if (!count) return -1;
  if (ended && state.repeat === "one") return state.current;
  if (state.shuffle) {
    const at = state.order.indexOf(state.current);
    if (at >= 0 && at + 1 < state.order.length) return state.order[at + 1];
    return state.repeat === "off" ? -1 : nextCycle(count, state.seed, state.current)[0];
  }
  if (state.current + 1 < count) return state.current + 1;
  return state.repeat === "off" ? -1 : 0;
}

/** Make `index` current (`fromStart`: even when it is the track loaded already), keep, show. */
function become(index, play = true, fromStart = false) {
  const track = state.tracks[index];
  state.current = index;
  if (fromStart && track && audio.dataset.trackId === String(track.id)) audio.currentTime = 0;
  loadCurrent(0, play);
  persist();
  render();
}

/** Shuffled, the order follows a move to `index`: it plays right after the current track
 * (picked out of order, it counts as played and the rest of the cycle follows it); when the
 * whole cycle has played, a new one starts with it (the one `peekNext` foretold, when it is
 * that one). */
function pick(index) {
  if (!state.shuffle || index === state.current) return;
  const at = state.order.indexOf(state.current);
  if (at >= 0 && at + 1 >= state.order.length) {
    const order = nextCycle(state.tracks.length, state.seed, state.current);
    state.order = [index, ...order.filter((i) => i !== index)];
    state.seed = newSeed();
    return;
  }
  const order = state.order.filter((i) => i !== index);
  order.splice(order.indexOf(state.current) + 1, 0, index);
  state.order = order;
}

/** Move to `index` (a track picked in the panel, or the one `peekNext` named): it plays. */
export function go(index, play = true) {
  if (index < 0 || index >= state.tracks.length) return;
  pick(index);
  become(index, play);
}

/** On to the next track (`ended`: the current one finished); false at the end of the queue. */
export function next({ ended = false } = {}) {
  const index = peekNext({ ended });
  if (index < 0) return false;
  pick(index);
  become(index, true, true);
  return true;
}

export function previous() {
  const at = state.shuffle ? state.order.indexOf(state.current) : state.current;
  if (audio.currentTime > 3 || at <= 0) audio.currentTime = 0;
  else become(state.shuffle ? state.order[at - 1] : state.current - 1);
}

export function toggleShuffle() {
  state.shuffle = !state.shuffle;
  // On: the current track plays on and the rest is shuffled. Off: the listed order again,
  // from the current track.
  state.order = state.shuffle ? startOrder(state.tracks.length, state.current) : [];
  persist({ server: false });
  render();
}

/** off → all → one → off. */
export function cycleRepeat() {
  state.repeat = REPEAT_MODES[(REPEAT_MODES.indexOf(state.repeat) + 1) % REPEAT_MODES.length];
  persist({ server: false });
  render();
}

/** The tracks were edited (`from`: see reindexedOrder); `current` is the new current index. */
function edited(from, current, options) {
  state.current = current;
  if (state.shuffle) state.order = reindexedOrder(state.order, from, current, options);
}

function withInserted(count, at) {
  const from = [...Array(count).keys()];
  from.splice(at, 0, -1);
  return from;
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
      let index = existing;
      if (existing < 0) {
        index = state.current + (state.tracks.length ? 1 : 0);
        const from = withInserted(state.tracks.length, index);
        state.tracks.splice(index, 0, track);
        edited(from, state.tracks.length > 1 ? state.current : 0, { nextUp: true });
      }
      pick(index);
      state.current = index;
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
    return await inClickOrder(id, (track) => {
      const empty = !state.tracks.length;
      const at = empty ? 0 : nextUp ? state.current + 1 : state.tracks.length;
      const from = withInserted(state.tracks.length, at);
      state.tracks.splice(at, 0, track);
      edited(from, empty ? 0 : state.current, { nextUp });
      if (empty) loadCurrent(0, false);
      persist();
      render();
      toast(nextUp ? `“${track.title}” plays next` : `added “${track.title}” to the queue`);
      return track;
    });
  } catch (error) {
    toast(error.message, true);
    return null;
  }
}

export function move(from, to) {
  if (to < 0 || to >= state.tracks.length || from === to || from < 0 || from >= state.tracks.length) return false;
  const was = [...state.tracks.keys()];
  const [moved] = state.tracks.splice(from, 1);
  state.tracks.splice(to, 0, moved);
  const [index] = was.splice(from, 1);
  was.splice(to, 0, index);
  edited(was, was.indexOf(state.current));
  persist();
  render();
  return true;
}

export function remove(index) {
  if (index < 0 || index >= state.tracks.length) return;
  const removingCurrent = index === state.current;
  // The current track goes: the one that would have come next plays (or is ready) instead.
  let after = state.current;
  if (removingCurrent) {
    const upcoming = state.shuffle ? peekNext({ ended: false }) : index + 1;
    after = upcoming >= 0 && upcoming < state.tracks.length && upcoming !== index ? upcoming : index - 1;
  }
  const was = [...state.tracks.keys()];
  was.splice(index, 1);
  state.tracks.splice(index, 1);
  edited(was, Math.max(0, was.indexOf(after)));
  if (removingCurrent) loadCurrent(0, !audio.paused);
  persist();
  render();
}
