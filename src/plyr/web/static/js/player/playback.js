// Playback of the current track: load it into the <audio> (where it stood, playing or not),
// start it, level its loudness, and say that it plays; and a clicked track started before
// its details are in (prime).

import { audio, bar } from "./elements.js";
import { showNowPlaying, showTitle } from "./display.js";
import { beginListen, forgetListen, listen } from "./listens.js";
import { reportNowPlaying } from "./now-playing.js";
import { currentTrack } from "./queue-state.js";

let pendingSeek = null; // where a track just loaded is to start, once its length is known

function setSource(url, id) {
  // A seek waiting for the previous source's metadata is not this one's.
  if (pendingSeek) audio.removeEventListener("loadedmetadata", pendingSeek);
  pendingSeek = null;
  audio.src = url;
  audio.dataset.trackId = String(id);
  forgetListen();
}

export function loadCurrent(startAt = 0, play = false) {
  const track = currentTrack();
  bar.hidden = !track;
  if (!track) {
    audio.removeAttribute("src");
    return;
  }
  if (audio.dataset.trackId !== String(track.id)) setSource(track.audio_url, track.id);
  if (startAt) {
    pendingSeek = () => {
      pendingSeek = null;
      audio.currentTime = startAt;
    };
    audio.addEventListener("loadedmetadata", pendingSeek, { once: true });
  }
  applyGain(track);
  showNowPlaying(track);
  if (play) start();
}

/**
 * A click on ▶ needs the track's details (GET /api/tracks/{id}) before the queue can take
 * it, but its audio is at /audio/{id} (`audio_url`) whatever they say: load and start it
 * now, so the sound does not wait for them. The queue takes the track when they come
 * (`loadCurrent` finds the element already on it) and `announcePlaying` then does what
 * the `play` event could not yet. True when the source changed (false when the element
 * had that track already: it just plays).
 */
export function prime(id) {
  const fresh = audio.dataset.trackId !== String(id);
  if (fresh) setSource(`/audio/${id}`, id);
  start();
  return fresh;
}

/** A primed track that will not play after all: back to the queue's current one, where
 * it stood, playing if it was. */
export function unprime(startAt, play) {
  delete audio.dataset.trackId;
  loadCurrent(startAt, play);
}

/**
 * The element plays: the tab title, a listen for play counting, now playing. Only for the
 * queue's current track: a primed one plays before the queue has it, and `playNow` calls
 * this again once it does.
 */
export function announcePlaying() {
  const track = currentTrack();
  showTitle();
  if (!track || audio.dataset.trackId !== String(track.id)) return;
  if (!listen) beginListen(track);
  reportNowPlaying();
}

export async function start() {
  try {
    await audio.play();
  } catch {
    /* autoplay refused until the user interacts; the play button stays available */
  }
}

export function applyGain(track) {
  audio.volume = trackVolume(track);
}

/** The volume `track` plays at: the listener's, times its loudness levelling. */
export function trackVolume(track) {
  // Loudness levelling through the element's volume: loud tracks are turned down to the
  // others' level. Boosting quiet ones would need Web Audio, which goes silent for media
  // redirected to another origin (S3) without CORS; so levelling only ever cuts.
  const db = localStorage.getItem("plyr.normalize") === "off" ? 0 : Number(track?.gain_db || 0);
  return userVolume() * Math.min(1, Math.pow(10, db / 20));
}

export function userVolume() {
  return Number(localStorage.getItem("plyr.volume") || 1);
}
