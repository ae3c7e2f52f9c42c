// Play counting: 30 % of the track or 30 s, reported once per listen. The server starts a
// listen (a token and the threshold) when a track starts playing; what was heard is counted
// from the audio's progress, skipping seeks.

import { audio } from "./elements.js";

export let listen = null; // { token, threshold, heard, last, reported }

/** A new track, or the end of one: the next play starts a new listen. */
export function forgetListen() {
  listen = null;
}

export async function beginListen(track) {
  // Held at once, so a second `play` (or `announcePlaying`) before the answer starts none.
  const starting = (listen = { token: null, threshold: Infinity, heard: 0, last: null, reported: true });
  const response = await fetch(`/api/tracks/${track.id}/listens`, { method: "POST" }).catch(() => null);
  if (listen !== starting) return; // another track began meanwhile
  if (!response?.ok) {
    listen = null; // the next play tries again
    return;
  }
  const data = await response.json();
  listen = { token: data.listen_token, threshold: data.threshold_ms, heard: 0, last: null, reported: false };
}

export function countListening() {
  if (!listen || listen.reported || audio.paused) return;
  const now = audio.currentTime;
  if (listen.last !== null && now > listen.last && now - listen.last < 2) {
    listen.heard += (now - listen.last) * 1000;
  }
  listen.last = now;
  if (listen.heard >= listen.threshold) {
    listen.reported = true;
    fetch("/api/plays", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ listen_token: listen.token, listened_ms: Math.round(listen.heard) }),
    });
  }
}
