// The player's own toasts ("added … to the queue", a queue replaced by another device's), in
// the page's toast region; made here if the page has none.

export function toast(message, failed = false) {
  let region = document.getElementById("toasts");
  if (!region) {
    region = Object.assign(document.createElement("div"), { id: "toasts", className: "toasts" });
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  const note = Object.assign(document.createElement("p"), { className: failed ? "toast failed" : "toast", textContent: message });
  region.append(note);
  setTimeout(() => note.remove(), 4000);
}
