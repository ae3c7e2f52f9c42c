// The player's elements in base.html: the bar with its one <audio>, and the queue panel. They
// sit outside <main id="main"> (and are hx-preserve'd), so htmx page swaps never replace them.

export const body = document.body;
export const signedIn = body.dataset.signedIn === "true";
export const bar = document.getElementById("player");
// The <audio> playing the current track: decks.js swaps it with a second one at a gapless
// or crossfaded transition (a live binding: importers always read the one that plays).
export let audio = document.getElementById("player-audio");
export function useDeck(element) {
  audio = element;
}
export const panel = document.getElementById("queue-panel");
export const list = document.getElementById("queue-list");
export const seek = bar.querySelector("[data-player-seek]");
export const volume = bar.querySelector("[data-player-volume]");
export const toggleButton = bar.querySelector('[data-player="toggle"]');
