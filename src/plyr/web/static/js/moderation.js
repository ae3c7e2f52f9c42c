// The review pages (event delegation: htmx swaps the page under us). The queue's "select all"
// box; on a flag's page, the buttons that move both players to a matched passage and play
// one side, and playing one side pauses the other. Without script the players still start
// at the first passage (a #t= media fragment) and every row has its own checkbox.

function showSelectAll() {
  for (const box of document.querySelectorAll("[data-select-all]")) box.hidden = false;
}

function syncSelectAll(form) {
  const all = form.querySelector("[data-select-all]");
  if (!all) return;
  const picks = [...form.querySelectorAll("[data-pick]")];
  const chosen = picks.filter((box) => box.checked).length;
  all.checked = chosen > 0 && chosen === picks.length;
  all.indeterminate = chosen > 0 && chosen < picks.length;
}

document.addEventListener("change", (event) => {
  const target = event.target;
  const form = target.closest?.("[data-bulk]");
  if (!form) return;
  if (target.matches("[data-select-all]")) {
    for (const box of form.querySelectorAll("[data-pick]")) box.checked = target.checked;
  }
  syncSelectAll(form);
});

function seek(audio, seconds) {
  if (!audio || !Number.isFinite(seconds)) return;
  audio.currentTime = seconds;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-seek]");
  if (!button) return;
  const flagged = document.getElementById("audio-flagged");
  const matched = document.getElementById("audio-matched");
  seek(flagged, Number(button.dataset.flagged));
  seek(matched, Number(button.dataset.matched));
  const play = button.dataset.play === "matched" ? matched : flagged;
  const other = play === matched ? flagged : matched;
  other?.pause(); // at once: the "play" event below comes only when playback starts
  play?.play().catch(() => {}); // a browser may refuse to play; the position is set anyway
});

// One side at a time: the comparison is by ear, and two recordings at once are noise.
document.addEventListener(
  "play",
  (event) => {
    const started = event.target;
    if (!(started instanceof HTMLAudioElement) || !started.dataset.side) return;
    for (const other of document.querySelectorAll("audio[data-side]")) {
      if (other !== started && !other.paused) other.pause();
    }
  },
  true,
);

showSelectAll();
document.addEventListener("htmx:afterSettle", showSelectAll);
