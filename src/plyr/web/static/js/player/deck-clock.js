// Where a playing deck's track is on performance.now()'s clock, for timing a gapless start.
// One reading of `currentTime` is some ms off either way (Chromium interpolates it between
// audio callbacks: readings taken 4 ms apart scatter over ~10 ms); the median of many,
// taken while the deck plays on, is within about a millisecond.

const KEEP = 200;

export class DeckClock {
  constructor() {
    this.readings = [];
  }

  /** Forget the readings: the deck started, stopped, seeked or changed speed. */
  reset() {
    this.readings = [];
  }

  read(deck) {
    if (deck.paused || deck.seeking || deck.playbackRate !== 1 || deck.currentTime <= 0) return;
    this.readings.push(performance.now() - deck.currentTime * 1000);
    if (this.readings.length > KEEP) this.readings.splice(0, this.readings.length - KEEP);
  }

  get count() {
    return this.readings.length;
  }

  /** performance.now() at which the deck's position 0 was heard (null before any reading). */
  origin() {
    if (!this.readings.length) return null;
    const sorted = [...this.readings].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }
}
