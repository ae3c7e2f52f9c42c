// The player: one <audio> in a bar outside the page content, so htmx navigation never
// interrupts it. The queue lives in localStorage, on the server for signed-in listeners
// (with a revision: a stale write gets the newer queue back), and in step across tabs via
// BroadcastChannel; only one tab plays at a time.
//
// This module starts it; the parts are ES modules in player/: elements.js (the bar and the
// panel in base.html), queue-state.js, queue-sync.js (storage, server, other tabs),
// playback.js and display.js (the <audio> and what the bar shows), queue-actions.js,
// queue-order.js (shuffle's order), queue-panel.js, queue-reorder.js (drag, touch, alt+arrows),
// controls.js (clicks, sliders), shortcuts.js (keys, Media Session),
// audio-events.js, listens.js (play counting), now-playing.js and toast.js; decks.js and
// transition.js (a second <audio>: gapless playback and crossfades).

import "./player/audio-events.js";
import "./player/controls.js";
import "./player/shortcuts.js";
import "./player/transition.js";
import "./player/waveform.js";
import { showTitle } from "./player/display.js";
import { audio, volume } from "./player/elements.js";
import { stopNowPlaying } from "./player/now-playing.js";
import { loadCurrent, userVolume } from "./player/playback.js";
import { render } from "./player/queue-panel.js";
import { load, state } from "./player/queue-state.js";
import { fetchServerQueue, persist } from "./player/queue-sync.js";

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
window.plyrPlayer = {
  state: () => state,
  get audio() {
    return audio; // the deck that plays (player/decks.js)
  },
};
