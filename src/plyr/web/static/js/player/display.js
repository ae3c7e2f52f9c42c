// What the bar, the tab title and the system's media controls show: the current track, the
// time and duration, "▶ title · artist" while it plays.

import { audio, bar, seek } from "./elements.js";
import { currentTrack } from "./queue-state.js";

const baseTitle = document.title;

export function showNowPlaying(track) {
  const title = bar.querySelector(".player-title");
  title.textContent = track.title;
  title.href = `/tracks/${track.id}`;
  bar.querySelector(".player-artist").textContent = track.artist;
  const art = bar.querySelector(".player-art");
  art.hidden = !track.thumbnail_url;
  if (track.thumbnail_url) art.src = track.thumbnail_url;
  if ("mediaSession" in navigator) {
    navigator.mediaSession.metadata = new MediaMetadata({
      title: track.title,
      artist: track.artist,
      album: track.album || "",
      artwork: track.image_url ? [{ src: track.image_url, sizes: "512x512" }] : [],
    });
  }
}

function clock(seconds) {
  if (!Number.isFinite(seconds)) return "0:00";
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function updateTime() {
  const duration = audio.duration || 0;
  seek.max = String(Math.floor(duration));
  seek.value = String(Math.floor(audio.currentTime));
  seek.setAttribute("aria-valuetext", clock(audio.currentTime));
  bar.querySelector("[data-player-time]").textContent = clock(audio.currentTime);
  bar.querySelector("[data-player-duration]").textContent = clock(duration);
}

export function showTitle() {
  // The tab says what plays; pages (swapped in by htmx) bring their own title otherwise.
  const track = currentTrack();
  const page = document.querySelector("main h1")?.textContent?.trim();
  document.title = !audio.paused && track ? `▶ ${track.title} · ${track.artist}` : page ? `${page} · plyr` : baseTitle;
}
