"""A tap on what the web player sounds like, for measuring gapless playback in Chromium.

`install_tap` routes both of the player's decks (`#player audio`: the playing element and
the one that loads the next track) through an AudioContext into an AudioWorklet that passes
the sound on and records, sample by sample, every silent run (|x| < -60 dBFS, at least
0.5 ms) between the first and the last sound, and the RMS of every 10 ms. The page must
be served from plyr's origin with local storage (the media same-origin: Web Audio hears
nothing of cross-origin media) in a context made with `bypass_csp=True` (the worklet is
a blob: module; plyr's CSP allows scripts from itself only), after a real click (an
AudioContext starts only after a user gesture). `tap_report` reads what was recorded.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page

# plyr's session cookie (plyr.auth.sessions.COOKIE_NAME), literal as in tests/support/browser.py.
SESSION_COOKIE = "plyr_session"

SILENCE = 1e-3  # -60 dBFS
MIN_RUN_FRAMES = 24  # 0.5 ms at 48 kHz: a sine's zero crossing is far shorter

WORKLET = f"""
class GapTap extends AudioWorkletProcessor {{
  constructor() {{
    super();
    this.silentFrom = null;
    this.runs = [];
    this.first = null;
    this.last = null;
    this.sum = 0;
    this.count = 0;
    this.block = Math.round(sampleRate / 100);
    this.rms = [];
    this.rmsFrom = null;
    this.port.onmessage = () => this.port.postMessage({{
      rate: sampleRate, runs: this.runs, first: this.first, last: this.last,
      rms: this.rms, rmsFrom: this.rmsFrom, now: currentFrame,
    }});
  }}
  process(inputs, outputs) {{
    const channels = inputs[0] || [];
    const length = channels[0] ? channels[0].length : 128;
    for (let i = 0; i < length; i++) {{
      let peak = 0;
      for (const channel of channels) peak = Math.max(peak, Math.abs(channel[i]));
      const frame = currentFrame + i;
      if (peak < {SILENCE}) {{
        if (this.silentFrom === null) this.silentFrom = frame;
      }} else {{
        const run = this.silentFrom === null ? 0 : frame - this.silentFrom;
        if (this.first !== null && run >= {MIN_RUN_FRAMES}) this.runs.push([this.silentFrom, run]);
        this.silentFrom = null;
        if (this.first === null) {{
          this.first = this.rmsFrom = frame;
          this.count = this.sum = 0;
        }}
        this.last = frame;
      }}
      if (this.first !== null) {{
        const x = channels[0] ? channels[0][i] : 0;
        this.sum += x * x;
        if (++this.count === this.block) {{
          this.rms.push(Math.sqrt(this.sum / this.block));
          this.sum = 0;
          this.count = 0;
        }}
      }}
    }}
    const out = outputs[0];
    for (let c = 0; c < out.length; c++) if (channels[c]) out[c].set(channels[c]);
    return true;
  }}
}}
registerProcessor("gap-tap", GapTap);
"""

INSTALL = """
async (source) => {
  const context = new AudioContext();
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  await context.audioWorklet.addModule(url);
  const tap = new AudioWorkletNode(context, "gap-tap", { outputChannelCount: [2] });
  const decks = [...document.querySelectorAll("#player audio")];
  for (const deck of decks) context.createMediaElementSource(deck).connect(tap);
  tap.connect(context.destination);
  await context.resume();
  window.gapTap = {
    context,
    report: () => new Promise((resolve) => {
      tap.port.onmessage = (event) => resolve(event.data);
      tap.port.postMessage("report");
    }),
  };
  return { state: context.state, decks: decks.length, rate: context.sampleRate };
}
"""


@dataclass(frozen=True)
class TapReport:
    rate: int
    runs_ms: list[tuple[float, float]]  # (start s after the first sound, length ms)
    sounding_s: float  # from the first sound to the last
    rms: list[float]  # every 10 ms from the first sound

    def gaps(
        self, track_s: float, transitions: int, window_s: float = 0.3
    ) -> tuple[list[float], list[tuple[float, float]]]:
        """The longest silence at each of `transitions` transitions between tracks of
        `track_s` seconds, in ms (0: none), and the silent runs away from any transition
        (glitches: a machine too busy to feed the audio in time). A transition is where
        the tracks so far end, counting the silences before it."""
        gaps = [0.0] * transitions
        glitches: list[tuple[float, float]] = []
        silent_s = 0.0  # the silences so far move the later transitions
        for start, length in self.runs_ms:
            k = round((start - silent_s) / track_s)
            if 1 <= k <= transitions and abs(start - silent_s - k * track_s) <= window_s:
                gaps[k - 1] = max(gaps[k - 1], length)
                silent_s += length / 1000
            else:
                glitches.append((start, length))
        return gaps, glitches

    def longest_ms(self) -> float:
        return max((length for _, length in self.runs_ms), default=0.0)

    def steady_rms(self) -> float:
        return statistics.median(self.rms) if self.rms else 0.0


async def install_tap(page: Page) -> dict[str, Any]:
    """Route the player's decks through the recording worklet (after a user gesture)."""
    installed: dict[str, Any] = await page.evaluate(INSTALL, WORKLET)
    return installed


async def tap_report(page: Page) -> TapReport:
    data: dict[str, Any] = await page.evaluate("() => window.gapTap.report()")
    rate = int(data["rate"])
    first = data["first"] or 0
    return TapReport(
        rate=rate,
        runs_ms=[((start - first) / rate, 1000 * length / rate) for start, length in data["runs"]],
        sounding_s=((data["last"] or first) - first) / rate,
        rms=[float(value) for value in data["rms"]],
    )


async def listening_page(
    browser: Browser,
    base: str,
    cookie: str,
    http: httpx.AsyncClient,
    prefs: dict[str, Any],
    ids: list[int],
) -> tuple[BrowserContext, Page]:
    """The listener's page with `prefs` saved, `ids` as their queue (both through the API
    with `http`, signed in as them) and the tap on the player's decks, installed after a
    click on the bar's duration (a gesture that does nothing else)."""
    saved = await http.patch("/api/preferences", json=prefs)
    assert saved.status_code == 200, saved.text
    revision = (await http.get("/api/queue")).json()["revision"]
    queued = await http.put(
        "/api/queue", json={"revision": revision, "track_ids": ids, "current": 0, "position_ms": 0}
    )
    assert queued.status_code == 200, queued.text
    # bypass_csp: the tap's worklet is a blob: module, which plyr's CSP (rightly) refuses.
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    context.set_default_timeout(20_000)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])
    page = await context.new_page()
    await page.goto(f"{base}/")
    await page.wait_for_function(
        f"() => document.querySelectorAll('#queue-list li').length === {len(ids)}"
    )
    await page.evaluate(
        """() => {
          window.transitions = [];
          document.addEventListener("plyr:transition", (e) => window.transitions.push(e.detail));
        }"""
    )
    await page.locator("[data-player-duration]").click()
    installed = await install_tap(page)
    assert installed["state"] == "running", installed
    assert installed["decks"] == 2, installed
    return context, page


async def play_until(page: Page, title: str, at: float, timeout_s: float) -> TapReport:
    """Press play; what the tap heard once the track `title` has played `at` seconds."""
    await page.get_by_role("button", name="play", exact=True).click()
    await page.wait_for_function(
        """([title, at]) => document.querySelector('#player .player-title').textContent === title
             && document.getElementById('player-audio').currentTime > at""",
        arg=[title, at],
        timeout=timeout_s * 1000,
    )
    return await tap_report(page)
