// The player's buttons and sliders, the queue panel's buttons, and the play / add-to-queue /
// play-next buttons on any page (one click listener on the document, so pages swapped in by
// htmx need no wiring). Other scripts (the search dialog's shift+enter) add to the queue with
// a `plyr:enqueue` event ({ id, nextUp }). Reordering by drag and keys is queue-reorder.js.

import { audio, bar, panel, seek, volume } from "./elements.js";
import { applyGain, loadCurrent, start } from "./playback.js";
import { cycleRepeat, enqueue, go, next, playNow, previous, remove, toggleShuffle } from "./queue-actions.js";
import { render } from "./queue-panel.js";
import { moveAndFocus } from "./queue-reorder.js";
import { currentTrack, state } from "./queue-state.js";
import { persist } from "./queue-sync.js";
import { toast } from "./toast.js";

document.addEventListener("click", (event) => {
  const target = event.target.closest("button, [data-play-track]");
  if (!target) return;
  if (target.dataset.playTrack) return playNow(Number(target.dataset.playTrack)).catch((e) => toast(e.message, true));
  // Row buttons sit beside links (and inside list pages): they queue, never navigate.
  if (target.dataset.queueAdd || target.dataset.queueNext) event.preventDefault();
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
    state.order = [];
    loadCurrent();
    persist();
    return render();
  }
  if (target.hasAttribute("data-queue-shuffle")) return toggleShuffle();
  if (target.hasAttribute("data-queue-repeat")) return cycleRepeat();
  const item = target.closest(".queue-item");
  if (!item) return;
  const index = Number(item.dataset.index);
  if (target.classList.contains("queue-play")) return go(index);
  if (target.dataset.move) return moveAndFocus(index, index + Number(target.dataset.move), `[data-move="${target.dataset.move}"]`);
  if (target.hasAttribute("data-remove")) return remove(index);
});

document.addEventListener("plyr:enqueue", (event) => {
  const { id, nextUp = false } = event.detail || {};
  if (Number.isInteger(id)) enqueue(id, { nextUp });
});

seek.addEventListener("input", () => (audio.currentTime = Number(seek.value)));
volume.addEventListener("input", () => {
  localStorage.setItem("plyr.volume", volume.value);
  applyGain(currentTrack());
});
