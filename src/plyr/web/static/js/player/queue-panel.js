// The queue panel: shuffle and repeat as they stand, and one row per track (the current one
// marked) with a drag handle, play, move and remove buttons; controls.js handles their
// clicks, queue-reorder.js the drags and alt+arrows.

import { bar, list, panel } from "./elements.js";
import { currentTrack, state } from "./queue-state.js";

const REPEAT_LABELS = { off: "repeat off", all: "repeat all", one: "repeat one" };

function button(className, text, label, data = {}) {
  const node = Object.assign(document.createElement("button"), { type: "button", className, textContent: text });
  node.setAttribute("aria-label", label);
  Object.assign(node.dataset, data);
  return node;
}

function row(track, index, last) {
  const item = document.createElement("li");
  item.className = "queue-item";
  item.draggable = true;
  item.dataset.index = String(index);
  if (index === state.current) item.setAttribute("aria-current", "true");
  // The handle takes touch drags (pointer events); a mouse drags the whole row.
  const grip = Object.assign(document.createElement("span"), { className: "grip", textContent: "⋮⋮" });
  grip.dataset.grip = "";
  grip.setAttribute("aria-hidden", "true");
  const play = button("queue-play link-button keep-case", `${track.title} · ${track.artist}`, `play ${track.title}`);
  play.setAttribute("aria-keyshortcuts", "Alt+ArrowUp Alt+ArrowDown");
  const buttons = Object.assign(document.createElement("span"), { className: "queue-buttons" });
  const up = button("icon-button small-icon", "↑", `move ${track.title} up`, { move: "-1" });
  const down = button("icon-button small-icon", "↓", `move ${track.title} down`, { move: "1" });
  up.disabled = index === 0;
  down.disabled = index === last;
  buttons.append(up, down, button("icon-button small-icon", "✕", `remove ${track.title}`, { remove: "" }));
  item.append(grip, play, buttons);
  return item;
}

export function render() {
  bar.hidden = !currentTrack();
  panel.querySelector("[data-queue-empty]").hidden = state.tracks.length > 0;
  panel.querySelector("[data-queue-shuffle]").setAttribute("aria-pressed", String(state.shuffle));
  const repeat = panel.querySelector("[data-queue-repeat]");
  repeat.setAttribute("aria-pressed", String(state.repeat !== "off"));
  repeat.dataset.mode = state.repeat;
  repeat.textContent = REPEAT_LABELS[state.repeat];
  repeat.title = "repeat: off, all or one (press to change)";
  list.replaceChildren(...state.tracks.map((track, index) => row(track, index, state.tracks.length - 1)));
}
