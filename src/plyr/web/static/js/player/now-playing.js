// Now playing (signed-in listeners; GET /api/now-playing/{did} shows it): the tab that plays
// reports the track and position every NOW_PLAYING_EVERY_MS and on pause and seek, and says
// when nothing plays any more.

import { audio, body, signedIn } from "./elements.js";
import { currentTrack } from "./queue-state.js";

export const NOW_PLAYING_EVERY_MS = 15000;
export let nowPlayingAt = 0;
export let pausedByOtherTab = false;

/** This tab plays (again): its pauses are reported. */
export function playingHere() {
  pausedByOtherTab = false;
}

/** Another tab started playing and this one pauses: only one tab plays, and that one reports now playing. */
export function yieldToOtherTab() {
  pausedByOtherTab = true;
  nowPlayingAt = 0;
}

export function reportNowPlaying() {
  const track = currentTrack();
  if (!signedIn || !track || audio.dataset.trackId !== String(track.id)) return;
  nowPlayingAt = Date.now();
  fetch("/api/now-playing", {
    method: "PUT",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": body.dataset.csrf },
    body: JSON.stringify({
      track_id: track.id,
      position_ms: Math.round((audio.currentTime || 0) * 1000),
      paused: audio.paused,
    }),
    keepalive: true,
  }).catch(() => {});
}

export function stopNowPlaying() {
  if (!signedIn || !nowPlayingAt) return;
  nowPlayingAt = 0;
  // A beacon survives the page unloading; it cannot set headers, so the token is a field.
  const form = new URLSearchParams({ csrf_token: body.dataset.csrf || "" });
  if (!navigator.sendBeacon?.("/api/now-playing/stop", form)) {
    fetch("/api/now-playing/stop", { method: "POST", body: form, keepalive: true }).catch(() => {});
  }
}
