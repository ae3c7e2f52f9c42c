// Gapless playback and crossfades (the listener's setting: off, gapless, or crossfade over
// 1-12 s; mirrored in localStorage by preferences.js and theme.js). Near a track's end the
// queue's next one (peekNext: repeat and shuffle as `next` honours them) is loaded into the
// idle deck (decks.js); it is started from a timer that fires just before the end (not at
// `ended`, which comes late), ahead by the measured start latency of a paused element, so
// the two meet with no gap. Then the decks swap and the queue moves there (`go`): the bar,
// the media session, now playing and a new listen follow the new track.
// A crossfade starts the next one `seconds` before the end and ramps both with
// equal-power curves (cos / sin). Each deck's volume is its own track's level (levelling
// holds across the transition) times the curve. A pause, a seek or a skip during a
// crossfade ends it at once: the outgoing track stops and the current one is at full level.

import { audio } from "./elements.js";
import { DeckClock } from "./deck-clock.js";
import { clearDeck, idleDeck, onActive, swapDecks } from "./decks.js";
import { forgetListen } from "./listens.js";
import { applyGain, trackVolume } from "./playback.js";
import { go, peekNext } from "./queue-actions.js";
import { currentTrack, state } from "./queue-state.js";

const PRELOAD_S = 20; // the next track loads this long before it is needed
const SCHEDULE_S = 2; // from here on the start is timed by timers, not `timeupdate`
const POLL_MS = 5; // the playing deck's clock is read this often in the last second
const SPIN_MS = 25; // and waited for by spinning in the last ms
const MARGIN_MS = 2; // started this much early: a few ms of overlap is inaudible, a gap clicks
const LATENCY_KEY = "plyr.gapless.latencies";
const LATENCIES_KEPT = 12;
const LATENCY_RANGE_MS = [-50, 250];

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

// How long after `play()` a paused, loaded deck is heard, learned from the last gapless
// starts (this browser, this machine: kept in localStorage), so the next one is started
// that much earlier. It varies from start to start (Chromium starts a deck on one of its
// next audio callbacks: in headless Chromium 0-30 ms, more on a busy machine), so it is
// taken high, at the 90th percentile of those seen (a prior of 20 ms until a few are):
// some ms of overlap rather than a gap.
const DEFAULT_LATENCY_MS = 20;
let seenLatencies = readLatencies();
let latency = highLatency(seenLatencies);

function readLatencies() {
  try {
    const seen = JSON.parse(localStorage.getItem(LATENCY_KEY) || "[]");
    return Array.isArray(seen) ? seen.filter(Number.isFinite).slice(-LATENCIES_KEPT) : [];
  } catch {
    return [];
  }
}

function highLatency(seen) {
  const values = [...seen, ...Array(Math.max(0, 4 - seen.length)).fill(DEFAULT_LATENCY_MS)];
  values.sort((a, b) => a - b);
  return values[Math.ceil(0.9 * (values.length - 1))];
}

const clock = new DeckClock(); // the playing deck's
let prepared = null; // { deck, id }: the idle deck holds the queue's next track
let leaving = null; // the deck whose track is ending under the current one
let fade = null; // { track (the outgoing one's), seconds, interval }
let timer = 0;
let retire = 0;

/** The listener's choice: { kind: "off" | "gapless" | "crossfade", seconds }. */
export function transitionMode() {
  const kind = localStorage.getItem("plyr.transition");
  const seconds = clamp(Math.round(Number(localStorage.getItem("plyr.crossfade")) || 6), 1, 12);
  if (localStorage.getItem("plyr.autoadvance") === "off") return { kind: "off", seconds };
  return { kind: kind === "gapless" || kind === "crossfade" ? kind : "off", seconds };
}

function overlapOf(mode) {
  return mode.kind === "crossfade" ? Math.min(mode.seconds, audio.duration / 2) : 0;
}

function nextUp() {
  const index = peekNext();
  const track = Number.isInteger(index) ? state.tracks[index] : null;
  return track ? { index, track } : null;
}

function forget() {
  clearTimeout(timer);
  timer = 0;
  if (prepared) clearDeck(prepared.deck);
  prepared = null;
}

function prepare(next) {
  if (prepared?.id === next.track.id) return; // loaded already (the queue may have moved around it)
  forget();
  const deck = idleDeck();
  deck.src = next.track.audio_url;
  deck.dataset.trackId = String(next.track.id);
  prepared = { deck, id: next.track.id };
}

function watch() {
  const mode = transitionMode();
  if (mode.kind === "off") return prepared && forget();
  if (leaving || audio.paused || !Number.isFinite(audio.duration)) return;
  clock.read(audio);
  const remaining = audio.duration - audio.currentTime;
  const overlap = overlapOf(mode);
  if (remaining > overlap + PRELOAD_S) return;
  const next = nextUp();
  if (!next) return prepared && forget();
  prepare(next);
  if (!timer && remaining <= overlap + SCHEDULE_S) timer = setTimeout(fire, 0);
}

function fire() {
  timer = 0;
  const mode = transitionMode();
  if (mode.kind === "off" || !prepared || audio.paused) return;
  clock.read(audio);
  const origin = clock.count >= 20 ? clock.origin() : performance.now() - audio.currentTime * 1000;
  const end = origin + audio.duration * 1000; // when the last sample will be heard
  const lead = mode.kind === "gapless" ? latency + MARGIN_MS : overlapOf(mode) * 1000;
  const wait = end - lead - performance.now();
  if (wait > 1000) timer = setTimeout(fire, wait - 1000);
  else if (wait > SPIN_MS) timer = setTimeout(fire, POLL_MS);
  else {
    // The last ms: a timer can come tens of ms late on a busy machine, a short spin does not.
    while (end - lead - performance.now() > 0);
    begin(mode, end);
  }
}

function begin(mode, end) {
  const next = nextUp();
  if (!next || next.track.id !== prepared.id) return missed("the queue changed");
  const { deck } = prepared;
  // Not ready (still loading, or failed): the end advances as without a transition.
  if (deck.error || deck.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) return missed(`not ready (${deck.readyState})`);
  prepared = null;
  const outgoing = currentTrack();
  const crossfade = mode.kind === "crossfade";
  const startedAt = performance.now();
  const seconds = Math.max(0.05, Math.min(overlapOf(mode), (end - startedAt) / 1000));
  deck.volume = crossfade ? 0 : trackVolume(next.track);
  deck.play().catch(() => {});
  forgetListen(); // the outgoing track's listen ends here, as at `ended`
  leaving = swapDecks();
  clock.reset();
  // The queue moves to the track this deck holds (the one `ended` would have gone to): the
  // bar, the media session, now playing and the next listen follow, as at any advance.
  go(next.index);
  // What happened, for whoever listens (tests, the bench); `late_ms` is added once measured.
  const detail = { kind: mode.kind, from: outgoing?.id, to: next.track.id, ahead_ms: end - startedAt };
  if (crossfade) {
    fade = { track: outgoing, seconds, interval: setInterval(step, 25) };
    step(); // before the first sample is heard: `go` set the full level
  } else {
    // The idle deck's events are not heard (decks.js): it is let go once surely ended.
    retire = setTimeout(settle, end - startedAt + 500);
    learnLatency(deck, startedAt, end, detail);
  }
  document.dispatchEvent(new CustomEvent("plyr:transition", { detail }));
}

function missed(reason) {
  forget();
  document.dispatchEvent(new CustomEvent("plyr:transition-missed", { detail: { reason } }));
}

function step() {
  if (!fade || !leaving) return settle();
  const progress = clamp(audio.currentTime / fade.seconds, 0, 1);
  audio.volume = trackVolume(currentTrack()) * Math.sin((progress * Math.PI) / 2);
  leaving.volume = trackVolume(fade.track) * Math.cos((progress * Math.PI) / 2);
  if (progress >= 1 || leaving.ended) settle();
}

/** The transition under way ends now: the outgoing deck stops, the current plays at its level. */
function settle() {
  clearTimeout(retire);
  if (fade) {
    clearInterval(fade.interval);
    fade = null;
    applyGain(currentTrack());
  }
  if (leaving) clearDeck(leaving);
  leaving = null;
}

/** Read the new deck's clock for a moment: when it was heard, against when `play()` was
 * called (its latency) and when the outgoing track ended (`late_ms`: > 0 a gap). */
function learnLatency(deck, startedAt, end, detail) {
  const measure = () => {
    if (deck !== audio || deck.paused) return;
    if (deck.currentTime > 0.05) clock.read(deck); // past the start's first callbacks
    if (clock.count < 60) return void setTimeout(measure, POLL_MS);
    const heard = clock.origin();
    detail.late_ms = heard - end;
    detail.latency_ms = heard - startedAt;
    if (Math.abs(detail.late_ms) > 200) return; // a stall, not the deck's latency
    const seen = clamp(heard - startedAt, ...LATENCY_RANGE_MS);
    seenLatencies = [...seenLatencies, Math.round(seen * 10) / 10].slice(-LATENCIES_KEPT);
    latency = highLatency(seenLatencies);
    localStorage.setItem(LATENCY_KEY, JSON.stringify(seenLatencies));
  };
  setTimeout(measure, 50);
}

onActive("timeupdate", watch);
for (const type of ["play", "ratechange", "seeked"]) onActive(type, () => clock.reset());
for (const type of ["pause", "seeking"]) {
  onActive(type, () => {
    settle();
    clock.reset();
    clearTimeout(timer);
    timer = 0;
  });
}
onActive("emptied", () => {
  settle();
  clock.reset();
  forget();
});
