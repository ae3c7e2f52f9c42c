// Keeping one <audio> on a jam's timeline (plyr.listening.jams). The server says where the
// jam is: `position_ms` at its clock's `anchor_ms`, playing or not. This module estimates
// how far this browser's clock is from the server's (NTP-style: a few round trips to
// /api/clock, keeping the one with the shortest round trip, whose midpoint is the
// best guess), then every TICK_MS compares the element's position with the timeline's:
// a small drift is nudged away with playbackRate (no audible jump), a large one is seeked.

const CLOCK_SAMPLES = 6;
const TICK_MS = 200;
const SEEK_OVER_MS = 400; // beyond this a seek, under it a rate nudge
const STEADY_MS = 15; // within this the rate goes back to 1
const MAX_NUDGE = 0.08; // playbackRate stays within 1 ± this (the pitch is kept)
const NUDGE_PER_MS = 1 / 1200; // 100 ms off: 8 % faster or slower, mostly gone in ~1.5 s

/** This page's clock, ms since the epoch, with sub-millisecond steps. */
export const localNow = () => performance.timeOrigin + performance.now();

const CLOCK_KEEP_MS = 10 * 60 * 1000; // samples older than this no longer count (clocks drift)

/** One round trip: { offset, rtt, at }, or null when the server did not answer. */
async function clockSample() {
  const sent = localNow();
  const response = await fetch("/api/clock", { cache: "no-store", headers: { Accept: "application/json" } });
  const received = localNow();
  if (!response.ok) return null;
  const { server_ms: server } = await response.json();
  return { offset: server - (sent + received) / 2, rtt: received - sent, at: received };
}

/** The clock's offset from the server's: server clock ≈ localNow() + offset. The sample
 *  with the shortest round trip wins (its midpoint is the least uncertain, ± rtt / 2);
 *  `sample()` adds one more now and then, so a busy moment at the start does not stay. */
export class ClockOffset {
  constructor() {
    this.samples = [];
  }

  async sample(count = 1) {
    for (let i = 0; i < count; i++) {
      const found = await clockSample().catch(() => null);
      if (found) this.samples.push(found);
    }
    const now = localNow();
    this.samples = this.samples.filter((s) => now - s.at < CLOCK_KEEP_MS).slice(-60);
    return this.best();
  }

  best() {
    return this.samples.reduce((a, b) => (!a || b.rtt < a.rtt ? b : a), null) || { offset: 0, rtt: Infinity };
  }
}

/** { offset, rtt } from `samples` round trips (see ClockOffset). */
export async function estimateOffset(samples = CLOCK_SAMPLES) {
  return new ClockOffset().sample(samples);
}

export class JamSync {
  constructor(audio, { onBlocked = () => {}, onTick = () => {} } = {}) {
    this.audio = audio;
    this.offset = 0;
    this.jam = null;
    this.listening = false; // the listener wants sound (joined and pressed listen)
    this.onBlocked = onBlocked;
    this.onTick = onTick;
    this.timer = null;
    this.trackId = null;
  }

  /** Where the jam is now on its timeline, ms into the track (held at its end). */
  expectedMs() {
    const jam = this.jam;
    if (!jam || !jam.track) return 0;
    let at = jam.position_ms;
    if (jam.playing) at += localNow() + this.offset - jam.anchor_ms;
    const length = jam.track.duration ? jam.track.duration * 1000 : Infinity;
    return Math.max(0, Math.min(at, length));
  }

  /** The jam as the server now says it is. */
  apply(jam) {
    this.jam = jam;
    const id = jam.track ? jam.track.id : null;
    if (id !== this.trackId) {
      this.trackId = id;
      this.audio.playbackRate = 1;
      if (id === null) {
        this.audio.pause();
        this.audio.removeAttribute("src");
        this.audio.load();
      } else {
        this.audio.src = jam.track.audio_url;
        this.audio.dataset.trackId = String(id);
        this.audio.currentTime = this.expectedMs() / 1000;
      }
    }
    this.tick();
  }

  start() {
    if (!this.timer) this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.audio.pause();
  }

  tick() {
    const { audio, jam } = this;
    if (!jam) return;
    const expected = this.expectedMs();
    this.onTick(expected);
    if (!jam.track) return;
    const shouldPlay = this.listening && jam.playing && !jam.ended;
    if (!shouldPlay) {
      if (!audio.paused) audio.pause();
      audio.playbackRate = 1;
      if (Math.abs(audio.currentTime * 1000 - expected) > 50 && !audio.seeking) audio.currentTime = expected / 1000;
      return;
    }
    if (audio.ended && audio.currentTime * 1000 >= expected - 1000) return; // the next track comes from the server
    if (audio.paused) {
      if (!audio.seeking) audio.currentTime = expected / 1000;
      audio.play().catch((error) => {
        if (error.name === "NotAllowedError") {
          this.listening = false;
          this.onBlocked();
        }
      });
      return;
    }
    if (audio.seeking || audio.readyState < 3) return; // a seek or a load in flight: judge after it
    const drift = audio.currentTime * 1000 - expected; // > 0: ahead of the jam
    if (Math.abs(drift) > SEEK_OVER_MS) {
      audio.playbackRate = 1;
      audio.currentTime = expected / 1000;
    } else if (Math.abs(drift) <= STEADY_MS) {
      audio.playbackRate = 1;
    } else {
      audio.playbackRate = 1 - Math.max(-MAX_NUDGE, Math.min(MAX_NUDGE, drift * NUDGE_PER_MS));
    }
  }
}
