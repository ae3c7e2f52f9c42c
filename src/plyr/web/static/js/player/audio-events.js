// What follows from the <audio> element's events: the play button's state, the tab title, one
// playing tab, play counting, now-playing reports, the time display, and advancing at the end.
// Heard from whichever deck plays the current track (decks.js).

import { audio, toggleButton } from "./elements.js";
import { onActive } from "./decks.js";
import { showTitle, updateTime } from "./display.js";
import { countListening, forgetListen } from "./listens.js";
import {
  NOW_PLAYING_EVERY_MS,
  nowPlayingAt,
  pausedByOtherTab,
  playingHere,
  reportNowPlaying,
  stopNowPlaying,
} from "./now-playing.js";
import { announcePlaying } from "./playback.js";
import { next } from "./queue-actions.js";
import { currentTrack } from "./queue-state.js";
import { channel, persist, tabId } from "./queue-sync.js";

onActive("play", () => {
  toggleButton.dataset.playing = "true";
  toggleButton.setAttribute("aria-label", "pause");
  if (channel) channel.postMessage({ type: "playing", from: tabId });
  playingHere();
  announcePlaying();
});
onActive("pause", () => {
  delete toggleButton.dataset.playing;
  toggleButton.setAttribute("aria-label", "play");
  showTitle();
  persist({ broadcast: false });
  if (!currentTrack()) stopNowPlaying();
  else if (!pausedByOtherTab && !audio.ended) reportNowPlaying(); // the playing tab reports
});
onActive("seeked", () => {
  if (nowPlayingAt) reportNowPlaying();
});
onActive("timeupdate", () => {
  updateTime();
  countListening();
  if (!audio.paused && Date.now() - nowPlayingAt >= NOW_PLAYING_EVERY_MS) reportNowPlaying();
});
onActive("loadedmetadata", updateTime);
onActive("ended", () => {
  forgetListen();
  if (localStorage.getItem("plyr.autoadvance") !== "off") next({ ended: true }); // repeat one: again
  if (audio.paused) stopNowPlaying(); // the end of the queue: nothing plays
});
