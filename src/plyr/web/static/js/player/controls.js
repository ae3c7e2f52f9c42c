// The player's buttons and sliders, the queue panel's buttons and drag to reorder, and the
// play / add-to-queue / play-next buttons on any page (one click listener on the document, so
// pages swapped in by htmx need no wiring).

import { audio, bar, list, panel, seek, volume } from "./elements.js";
import { applyGain, loadCurrent, start } from "./playback.js";
import { enqueue, go, move, next, playNow, previous, remove } from "./queue-actions.js";
import { render } from "./queue-panel.js";
import { currentTrack, state } from "./queue-state.js";
import { persist } from "./queue-sync.js";
import { toast } from "./toast.js";

document.addEventListener("click", (event) => {
  const target = event.target.closest("button, [data-play-track]");
  if (!target) return;
  if (target.dataset.playTrack) return playNow(Number(target.dataset.playTrack)).catch((e) => toast(e.message, true));
  if (target.dataset.queueAdd) return enqueue(Number(target.dataset.queueAdd));
  if (target.dataset.queueNext) return enqueue(Number(target.dataset.queueNext), { nextUp: true });
  const action = target.dataset.player;
  if (action === "toggle") return audio.paused ? start() : audio.pause();
  if (action === "next") return next();
  if (action === "previous") return previous();
  if (target.hasAttribute("data-queue-toggle") || target.hasAttribute("data-queue-close")) {
    panel.hidden = !panel.hidden;
    bar.querySelector("[data-queue-toggle]").setAttribute("aria-expanded", String(!panel.hidden));
    return;
  }
  if (target.hasAttribute("data-queue-clear")) {
    audio.pause();
    state.tracks = [];
    state.current = 0;
    loadCurrent();
    persist();
    return render();
  }
  if (target.hasAttribute("data-queue-shuffle")) {
    state.shuffle = !state.shuffle;
    persist({ server: false });
    return render();
  }
  if (target.hasAttribute("data-queue-repeat")) {
    state.repeat = !state.repeat;
    persist({ server: false });
    return render();
  }
  const item = target.closest(".queue-item");
  if (!item) return;
  const index = Number(item.dataset.index);
  if (target.classList.contains("queue-play")) return go(index);
  if (target.dataset.move) return move(index, index + Number(target.dataset.move));
  if (target.hasAttribute("data-remove")) return remove(index);
});

seek.addEventListener("input", () => (audio.currentTime = Number(seek.value)));
volume.addEventListener("input", () => {
  localStorage.setItem("plyr.volume", volume.value);
  applyGain(currentTrack());
});

// Drag to reorder (desktop); the ↑ ↓ buttons do the same on touch screens and keyboards.
let dragFrom = null;
list.addEventListener("dragstart", (event) => {
  const item = event.target.closest(".queue-item");
  dragFrom = item ? Number(item.dataset.index) : null;
  event.dataTransfer?.setData("text/plain", String(dragFrom));
});
list.addEventListener("dragover", (event) => event.preventDefault());
list.addEventListener("drop", (event) => {
  event.preventDefault();
  const item = event.target.closest(".queue-item");
  if (item && dragFrom !== null) move(dragFrom, Number(item.dataset.index));
  dragFrom = null;
});
