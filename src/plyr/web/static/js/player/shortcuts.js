// Keyboard shortcuts (listed in base.html's #shortcuts dialog; not while typing) and the media
// keys and lock-screen controls (Media Session).

import { audio, panel } from "./elements.js";
import { start } from "./playback.js";
import { next, previous } from "./queue-actions.js";
import { currentTrack } from "./queue-state.js";

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

if ("mediaSession" in navigator) {
  navigator.mediaSession.setActionHandler("play", () => start());
  navigator.mediaSession.setActionHandler("pause", () => audio.pause());
  navigator.mediaSession.setActionHandler("nexttrack", () => next());
  navigator.mediaSession.setActionHandler("previoustrack", () => previous());
  navigator.mediaSession.setActionHandler("seekto", (details) => (audio.currentTime = details.seekTime));
}
