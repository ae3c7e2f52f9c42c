// Reordering the queue panel's rows: a mouse drags a whole row (HTML drag and drop), a finger
// or a pen drags its handle (pointer events: drag and drop does not work on touch screens),
// the keyboard moves the focused row with alt+↑ / alt+↓ (or its ↑ ↓ buttons, controls.js).
// Focus follows the moved row, so a keyboard can move it again.

import { list } from "./elements.js";
import { move } from "./queue-actions.js";

/** Move a row and put focus back on the same control of the row where it went. */
export function moveAndFocus(from, to, selector) {
  if (!move(from, to)) return;
  const control = list.querySelector(`.queue-item[data-index="${to}"] ${selector}`);
  (control && !control.disabled ? control : list.querySelector(`.queue-item[data-index="${to}"] .queue-play`))?.focus();
}

// --- mouse: the row is draggable -------------------------------------------------------

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

// --- touch and pen: the handle follows the finger ---------------------------------------

let drag = null; // { pointer, item, from, startY, to }

/** Where the dragged row would land: after every other row whose middle is above `y`. */
function landing(y) {
  let to = 0;
  for (const other of list.querySelectorAll(".queue-item")) {
    if (other === drag.item) continue;
    const box = other.getBoundingClientRect();
    if (box.top + box.height / 2 < y) to += 1;
  }
  return to;
}

function markLanding(to) {
  const others = [...list.querySelectorAll(".queue-item")].filter((item) => item !== drag.item);
  others.forEach((item, index) => {
    item.classList.toggle("drop-before", index === to && to !== drag.from);
    item.classList.toggle("drop-after", index === others.length - 1 && to === others.length && to !== drag.from);
  });
}

function endDrag(commit) {
  if (!drag) return;
  const { item, from, to } = drag;
  drag = null;
  item.classList.remove("dragging");
  item.style.transform = "";
  list.querySelectorAll(".drop-before, .drop-after").forEach((other) => other.classList.remove("drop-before", "drop-after"));
  if (commit && to !== from) moveAndFocus(from, to, ".queue-play");
}

list.addEventListener("pointerdown", (event) => {
  const grip = event.target.closest("[data-grip]");
  if (!grip || event.pointerType === "mouse" || drag) return;
  const item = grip.closest(".queue-item");
  event.preventDefault();
  grip.setPointerCapture(event.pointerId);
  const from = Number(item.dataset.index);
  drag = { pointer: event.pointerId, item, from, startY: event.clientY, to: from };
  item.classList.add("dragging");
});
list.addEventListener("pointermove", (event) => {
  if (!drag || event.pointerId !== drag.pointer) return;
  event.preventDefault();
  drag.item.style.transform = `translateY(${event.clientY - drag.startY}px)`;
  drag.to = landing(event.clientY);
  markLanding(drag.to);
});
list.addEventListener("pointerup", (event) => {
  if (drag && event.pointerId === drag.pointer) endDrag(true);
});
list.addEventListener("pointercancel", (event) => {
  if (drag && event.pointerId === drag.pointer) endDrag(false);
});

// --- keyboard: alt+↑ / alt+↓ on a row ---------------------------------------------------

list.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
  const item = event.target.closest(".queue-item");
  if (!item) return;
  event.preventDefault();
  const from = Number(item.dataset.index);
  moveAndFocus(from, from + (event.key === "ArrowUp" ? -1 : 1), ".queue-play");
});
