// The track page's large waveform (templates/_waveform.html): the track's peaks, the
// played part in the accent colour while this track plays in the player, click or drag
// to seek (starting the track when something else plays), the slider keys, and the timed
// comments as avatars along it (their text opens on hover, tap or focus: CSS; a click plays
// from their time through social.js's [data-seek]). Pages come and go under htmx: every
// swap looks for a waveform to set up; the module itself runs once.

import { fetchWaveform, WaveSlider } from "./waveform-core.js";

let audio = document.getElementById("player-audio");
const live = new Set(); // {box, slider} of the waveforms on the page now

function refresh() {
  for (const entry of live) {
    if (entry.box.isConnected) entry.slider.update();
    else live.delete(entry); // its page was swapped away
  }
}
const heard = new Set();
function listenTo(deck) {
  if (!deck || heard.has(deck)) return;
  heard.add(deck);
  for (const name of ["timeupdate", "seeked", "emptied", "loadedmetadata"]) deck.addEventListener(name, refresh);
}
listenTo(audio);
// A gapless or crossfaded transition: another <audio> plays now (player/decks.js).
document.addEventListener("plyr:deck", (event) => {
  audio = event.detail.audio;
  listenTo(audio);
  refresh();
});

function playing(trackId) {
  return audio && audio.getAttribute("src") && audio.dataset.trackId === trackId;
}

/** Seek this page's track: at once when it is the one loaded (a click also plays it, as a
 * comment's time does; a key only moves), else through social.js's [data-seek] handling,
 * which starts it and seeks once it can. */
function seekTrack(trackId, seconds, byKey) {
  if (playing(trackId)) {
    audio.currentTime = seconds;
    if (audio.paused && !byKey) audio.play().catch(() => {});
    return;
  }
  const stamp = Object.assign(document.createElement("a"), { href: "#", hidden: true });
  stamp.dataset.seek = String(seconds);
  stamp.dataset.seekTrack = trackId;
  document.body.append(stamp);
  stamp.click();
  stamp.remove();
}

async function setUp(box) {
  if (box.dataset.ready) return;
  box.dataset.ready = "true";
  const trackId = box.dataset.trackWaveform;
  const element = box.querySelector("[data-wave-slider]");
  const slider = new WaveSlider(element, {
    seek: (seconds, { byKey }) => seekTrack(trackId, seconds, byKey),
    position: () => (playing(trackId) ? audio.currentTime : null),
    bar: 3,
    gap: 2,
  });
  live.add({ box, slider });
  const data = await fetchWaveform(trackId);
  if (data && data.peaks.length) {
    box.dataset.state = "drawn";
    slider.show(data);
  } else {
    box.dataset.state = "pending"; // a flat line: the comments still sit along it
    slider.update();
  }
}

function setUpAll() {
  document.querySelectorAll("[data-track-waveform]").forEach(setUp);
}

document.addEventListener("htmx:afterSettle", setUpAll);
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAll);
else setUpAll();
