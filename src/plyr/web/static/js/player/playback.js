// Playback of the current track: load it into the <audio> (where it stood, playing or not),
// start it, and level its loudness.

import { audio, bar } from "./elements.js";
import { showNowPlaying } from "./display.js";
import { forgetListen } from "./listens.js";
import { currentTrack } from "./queue-state.js";

export function loadCurrent(startAt = 0, play = false) {
  const track = currentTrack();
  bar.hidden = !track;
  if (!track) {
    audio.removeAttribute("src");
    return;
  }
  if (audio.dataset.trackId !== String(track.id)) {
    audio.src = track.audio_url;
    audio.dataset.trackId = String(track.id);
    forgetListen();
  }
  if (startAt) {
    audio.addEventListener("loadedmetadata", () => (audio.currentTime = startAt), { once: true });
  }
  applyGain(track);
  showNowPlaying(track);
  if (play) start();
}

export async function start() {
  try {
    await audio.play();
  } catch {
    /* autoplay refused until the user interacts; the play button stays available */
  }
}

export function applyGain(track) {
  // Loudness levelling through the element's volume: loud tracks are turned down to the
  // others' level. Boosting quiet ones would need Web Audio, which goes silent for media
  // redirected to another origin (S3) without CORS; so levelling only ever cuts.
  const db = localStorage.getItem("plyr.normalize") === "off" ? 0 : Number(track?.gain_db || 0);
  audio.volume = userVolume() * Math.min(1, Math.pow(10, db / 20));
}

export function userVolume() {
  return Number(localStorage.getItem("plyr.volume") || 1);
}
