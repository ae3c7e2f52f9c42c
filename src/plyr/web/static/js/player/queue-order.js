// The order a shuffled queue plays in, as pure functions of the queue (no state here):
// `state.order` is a permutation of the queue's indices; the tracks before the current one
// in it have played this cycle, the ones after it are still to play. So every track plays
// once before any plays again; with repeat all, the next cycle is a new permutation drawn
// from `state.seed` (so "which track comes next" can be told before it is drawn).

export const REPEAT_MODES = ["off", "all", "one"];

/** A saved repeat as a mode: `true` (queues saved before repeat one existed) is "all". */
export function repeatMode(value) {
  if (value === true) return "all";
  return REPEAT_MODES.includes(value) ? value : "off";
}

export function newSeed() {
  return Math.floor(Math.random() * 2 ** 31);
}

/** A small seeded generator (mulberry32): the same seed, the same permutation. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled copy of `items` (Fisher–Yates). */
export function shuffled(items, random = Math.random) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** The permutation of a new cycle (repeat all) after `current`: drawn from `seed`, and not
 * starting with the track that just played when there is another. */
export function nextCycle(count, seed, current) {
  const order = shuffled([...Array(count).keys()], seeded(seed));
  if (count > 1 && order[0] === current) [order[0], order[1]] = [order[1], order[0]];
  return order;
}

/** Shuffle on at `current`: it keeps playing, every other track is still to play. */
export function startOrder(count, current) {
  const others = [...Array(count).keys()].filter((i) => i !== current);
  return count ? [current, ...shuffled(others)] : [];
}

/** `order` made a permutation of `count` indices holding `current` again (a queue replaced
 * by the server's or another tab's): what was valid stays, the rest joins the unplayed part. */
export function repairedOrder(order, count, current) {
  const seen = new Set();
  const kept = (Array.isArray(order) ? order : []).filter(
    (i) => Number.isInteger(i) && i >= 0 && i < count && !seen.has(i) && seen.add(i),
  );
  if (count && !seen.has(current)) {
    kept.push(current);
    seen.add(current);
  }
  const missing = [...Array(count).keys()].filter((i) => !seen.has(i));
  return [...kept, ...shuffled(missing)];
}

/**
 * The queue's tracks were edited: `from[i]` is the index the track now at `i` had before
 * (-1 for a track just added); `current` is the current index after the edit. Tracks keep
 * their place in the order (played stay played); added ones join the unplayed part at a
 * random place, or right after the current track when `nextUp`.
 */
export function reindexedOrder(order, from, current, { nextUp = false } = {}) {
  const now = new Map();
  from.forEach((was, i) => {
    if (was >= 0) now.set(was, i);
  });
  const kept = order.filter((i) => now.has(i)).map((i) => now.get(i));
  const added = from.flatMap((was, i) => (was < 0 ? [i] : []));
  for (const index of added) {
    if (index === current && !kept.includes(index)) {
      kept.push(index); // the track the edit made current (the queue was empty)
      continue;
    }
    const after = kept.indexOf(current) + 1;
    const at = nextUp ? after : after + Math.floor(Math.random() * (kept.length - after + 1));
    kept.splice(at, 0, index);
  }
  return repairedOrder(kept, from.length, current);
}
