// Lyrics on the track page (templates/_lyrics.html): while this page's track plays in the
// player, the synced line at the player's time is marked (aria-current) in the section and
// in the full-screen view, which keeps it in sight. A line of the full-screen view plays
// from its time (starting the track first when something else plays). "l" opens and closes
// the view; Esc closes it (the dialog's own). Everything by delegation from the document:
// htmx swaps the page under us and this module runs once.

let audio = document.getElementById("player-audio");
let pendingSeek = null; // { trackId, ms }: a line chosen before its track was loaded
let frame = 0;

const views = () => document.querySelectorAll("[data-lyrics-track]");
const dialog = () => document.getElementById("lyrics-view");
const playing = (box) => audio && audio.dataset.trackId === box.dataset.lyricsTrack;

// The last line starting at or before `ms` (-1: before the first), by binary search.
function lineAt(starts, ms) {
  let low = 0;
  let high = starts.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (starts[mid] <= ms) {
      found = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}

function mark(box) {
  const lines = [...box.querySelectorAll("[data-lyrics-at]")];
  if (!lines.length) return;
  const index = playing(box) ? lineAt(lines.map((li) => Number(li.dataset.lyricsAt)), audio.currentTime * 1000) : -1;
  if (Number(box.dataset.lyricsIndex ?? -1) === index) return;
  box.dataset.lyricsIndex = String(index);
  lines.forEach((li, i) => (i === index ? li.setAttribute("aria-current", "true") : li.removeAttribute("aria-current")));
  const current = lines[index];
  const scroller = box.querySelector(".lyrics-scroll, .lyrics-view-body");
  if (current && scroller && (box.tagName !== "DIALOG" || box.open)) {
    // Inside its own box only: the page itself must not jump while someone reads it.
    const top = current.offsetTop - scroller.offsetTop - scroller.clientHeight / 2 + current.clientHeight / 2;
    scroller.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
  }
}

function sync() {
  views().forEach(mark);
}

// Every animation frame while playing (timeupdate alone comes 4 times a second).
function follow() {
  cancelAnimationFrame(frame);
  sync();
  if (audio && !audio.paused) frame = requestAnimationFrame(follow);
}

function seekTo(box, ms) {
  if (playing(box)) {
    audio.currentTime = ms / 1000;
    if (audio.paused) audio.play().catch(() => {});
    return;
  }
  pendingSeek = { trackId: box.dataset.lyricsTrack, ms };
  document.querySelector(`[data-play-track="${box.dataset.lyricsTrack}"]`)?.click();
}

function applyPendingSeek() {
  if (pendingSeek && audio.dataset.trackId === pendingSeek.trackId && audio.readyState >= 1) {
    audio.currentTime = pendingSeek.ms / 1000;
    pendingSeek = null;
  }
}

function open() {
  const view = dialog();
  if (!view || view.open) return;
  view.showModal();
  delete view.dataset.lyricsIndex; // scroll to the current line now that it shows
  sync();
}

const followed = new Set();
function listenTo(deck) {
  if (!deck || followed.has(deck)) return;
  followed.add(deck);
  for (const name of ["timeupdate", "seeked", "loadedmetadata", "emptied"]) deck.addEventListener(name, sync);
  deck.addEventListener("play", follow);
  deck.addEventListener("loadedmetadata", applyPendingSeek);
  deck.addEventListener("canplay", applyPendingSeek);
}
listenTo(audio);
// A gapless or crossfaded transition: another <audio> plays now (player/decks.js).
document.addEventListener("plyr:deck", (event) => {
  audio = event.detail.audio;
  listenTo(audio);
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-lyrics-open]")) return open();
  if (event.target === dialog()) return dialog().close(); // the backdrop around the view
  if (event.target.closest("[data-lyrics-close]")) return dialog()?.close();
  const line = event.target.closest("[data-lyrics-at]");
  const box = line?.closest("[data-lyrics-track]");
  if (line && box) seekTo(box, Number(line.dataset.lyricsAt));
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "l" || event.metaKey || event.ctrlKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  const view = dialog();
  if (!view) return;
  event.preventDefault();
  view.open ? view.close() : open();
});

document.addEventListener("htmx:afterSettle", sync);
sync();
