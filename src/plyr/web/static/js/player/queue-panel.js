// The queue panel's list: one row per track (the current one marked), with play, move and
// remove buttons; controls.js handles their clicks and the drag to reorder.

import { bar, list, panel } from "./elements.js";
import { currentTrack, state } from "./queue-state.js";

export function render() {
  bar.hidden = !currentTrack();
  panel.querySelector("[data-queue-empty]").hidden = state.tracks.length > 0;
  panel.querySelector("[data-queue-shuffle]").setAttribute("aria-pressed", String(state.shuffle));
  panel.querySelector("[data-queue-repeat]").setAttribute("aria-pressed", String(state.repeat));
  list.replaceChildren(
    ...state.tracks.map((track, index) => {
      const item = document.createElement("li");
      item.className = "queue-item";
      item.draggable = true;
      item.dataset.index = String(index);
      if (index === state.current) item.setAttribute("aria-current", "true");
      item.innerHTML = `
        <span class="grip" aria-hidden="true">⋮⋮</span>
        <button type="button" class="queue-play link-button keep-case"></button>
        <span class="queue-buttons">
          <button type="button" class="icon-button small-icon" data-move="-1" aria-label="move up">↑</button>
          <button type="button" class="icon-button small-icon" data-move="1" aria-label="move down">↓</button>
          <button type="button" class="icon-button small-icon" data-remove aria-label="remove">✕</button>
        </span>`;
      const label = item.querySelector(".queue-play");
      label.textContent = `${track.title} · ${track.artist}`;
      label.setAttribute("aria-label", `play ${track.title}`);
      return item;
    }),
  );
}
