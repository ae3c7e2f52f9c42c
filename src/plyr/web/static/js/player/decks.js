// Two <audio> elements ("decks") for gapless playback and crossfades (transition.js): `audio`
// (elements.js) plays the queue's current track, the other one loads what comes next. At a
// transition they swap, and the id "player-audio" moves to the one that now plays, so
// whatever looks the element up by id finds what plays. Off, the second deck stays empty.
// The idle deck's media events are stopped before any listener hears them (a capturing
// listener on window): a module that holds on to one element never takes a preload's
// `loadedmetadata` or an outgoing track's `ended` for the player's. One that should follow
// the deck that plays listens with `onActive` (or to the `plyr:deck` event on document).

import { audio, useDeck } from "./elements.js";

const IDLE_ID = "player-audio-next";
const decks = [audio, audio.cloneNode(false)];
decks[1].id = IDLE_ID;
decks[1].preload = "auto";
decks[0].after(decks[1]);

const MEDIA_EVENTS = [
  "abort", "canplay", "canplaythrough", "durationchange", "emptied", "ended", "error",
  "loadeddata", "loadedmetadata", "loadstart", "pause", "play", "playing", "progress",
  "ratechange", "seeked", "seeking", "stalled", "suspend", "timeupdate", "volumechange", "waiting",
];
for (const type of MEDIA_EVENTS) {
  window.addEventListener(
    type,
    (event) => {
      if (decks.includes(event.target) && event.target !== audio) event.stopImmediatePropagation();
    },
    true,
  );
}

/** The deck not playing the current track: the one a transition loads the next into. */
export function idleDeck() {
  return decks[0] === audio ? decks[1] : decks[0];
}

/** Listen to the deck that plays, whichever it is: the other one's events are not the
 * player's (an outgoing track ending under a crossfade, a preload's progress). */
export function onActive(type, handler) {
  for (const deck of decks) {
    deck.addEventListener(type, (event) => {
      if (event.target === audio) handler(event);
    });
  }
}

/** The idle deck plays the current track from now on; the one that did is returned. */
export function swapDecks() {
  const outgoing = audio;
  const incoming = idleDeck();
  outgoing.id = IDLE_ID;
  incoming.id = "player-audio";
  useDeck(incoming);
  document.dispatchEvent(new CustomEvent("plyr:deck", { detail: { audio: incoming, outgoing } }));
  return outgoing;
}

/** Empty a deck no longer needed, so it holds no connection or buffer. */
export function clearDeck(deck) {
  deck.pause();
  if (!deck.hasAttribute("src")) return;
  deck.removeAttribute("src");
  delete deck.dataset.trackId;
  deck.load();
}
