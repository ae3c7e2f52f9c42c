// The player bar's compact waveform (base.html's [data-player-waveform]): the loaded track's
// peaks in place of the seek range, the played part in the accent colour, click or drag to
// seek, the slider keys (../waveform-core.js). Until the track's peaks are computed (or when
// fetching them fails) the bar keeps its plain range input. It follows whichever <audio>
// plays the current track (`audio` is elements.js's live binding; a gapless or crossfaded
// transition hands over to another one and says so with the `plyr:deck` event).

import { fetchWaveform, WaveSlider } from "../waveform-core.js";
import { onActive } from "./decks.js";
import { audio, bar, seek } from "./elements.js";

const element = bar.querySelector("[data-player-waveform]");
let shownFor = null; // the track id whose peaks are drawn (or being fetched)

const slider =
  element &&
  new WaveSlider(element, {
    seek: (seconds) => {
      audio.currentTime = seconds;
    },
    position: () => audio.currentTime || 0,
    bar: 2,
    gap: 1,
  });

function fallBack() {
  element.hidden = true;
  seek.hidden = false;
}

async function follow() {
  const id = audio.getAttribute("src") ? audio.dataset.trackId : undefined;
  if (!id) return fallBack();
  if (id === shownFor) return;
  shownFor = id;
  fallBack();
  const data = await fetchWaveform(id);
  if (shownFor !== id) return; // another track was loaded meanwhile
  if (!data || !data.peaks.length) {
    shownFor = null; // asked again at the next load
    return;
  }
  element.dataset.trackId = id;
  seek.hidden = true;
  element.hidden = false;
  slider.show(data);
}

if (element) {
  // onActive: whichever <audio> plays the current track (decks.js swaps them at a transition).
  for (const name of ["loadstart", "loadedmetadata", "emptied"]) onActive(name, follow);
  for (const name of ["timeupdate", "seeked", "durationchange"]) onActive(name, () => slider.update());
  document.addEventListener("plyr:deck", follow);
  follow();
}
