// "start a jam" (the queue panel's button, base.html): the player's queue from its current
// track, at the bar's position, becomes a jam this listener hosts; the bar pauses and the
// jam's page opens in place (an htmx swap keeps the click's permission to play sound).

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-jam-start]");
  if (!button) return;
  const player = window.plyrPlayer;
  const state = player ? player.state() : { tracks: [], current: 0 };
  const audio = player ? player.audio : null;
  // Shuffled, the queue plays in `state.order` (player/queue-order.js): what follows the
  // current track there is what follows it in the jam.
  const order = state.shuffle && state.order?.length ? state.order : state.tracks.map((_, i) => i);
  const at = Math.max(0, order.indexOf(state.current));
  const tracks = order.slice(at).map((i) => state.tracks[i]?.id).filter(Boolean);
  const playing = Boolean(audio && !audio.paused);
  const position = audio && audio.dataset.trackId === String(tracks[0]) ? audio.currentTime : 0;
  button.disabled = true;
  try {
    const response = await fetch("/api/jams", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": document.body.dataset.csrf },
      body: JSON.stringify({ track_ids: tracks, position_ms: Math.round(position * 1000), playing: playing || tracks.length > 0 }),
    });
    if (!response.ok) throw new Error((await response.json()).error?.message || `${response.status}`);
    const jam = await response.json();
    audio?.pause();
    const panel = document.getElementById("queue-panel");
    if (panel && !panel.hidden) document.querySelector("[data-queue-close]")?.click();
    if (window.htmx) {
      await window.htmx.ajax("GET", jam.url, { target: "#main", select: "#main", swap: "outerHTML" });
      history.pushState({}, "", jam.url);
    } else location.assign(jam.url);
  } catch (error) {
    window.plyrToast?.(`could not start a jam: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
});
