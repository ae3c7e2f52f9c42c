// The settings page's preferences form. Signed in, the server keeps them: each change is
// sent at once (PATCH /api/preferences) with a short "saved" status, and mirrored into
// localStorage, which the player reads. Without JavaScript the form posts as a whole.
// Signed-out visitors have no settings page; theme.js keeps their theme in this browser.

const DEFAULT_ACCENT = "#7c9cff";
// localStorage keys the player (player.js) and theme.js read.
const MIRROR = {
  theme: ["plyr.theme", (v) => v],
  accent: ["plyr.accent", (v) => v],
  auto_advance: ["plyr.autoadvance", (v) => (v ? "on" : "off")],
  loudness_levelling: ["plyr.normalize", (v) => (v ? "on" : "off")],
  transition: ["plyr.transition", (v) => v],
  crossfade_seconds: ["plyr.crossfade", (v) => String(v)],
};

export function mirror(prefs) {
  for (const [name, [key, encode]] of Object.entries(MIRROR)) {
    if (!(name in prefs)) continue;
    if (prefs[name] === null || prefs[name] === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, encode(prefs[name]));
  }
}

function applyLook(prefs) {
  const root = document.documentElement;
  if ("theme" in prefs) root.dataset.theme = prefs.theme;
  if ("accent" in prefs) {
    if (prefs.accent) root.style.setProperty("--accent", prefs.accent);
    else root.style.removeProperty("--accent");
  }
  if (root.dataset.prefs) {
    try {
      root.dataset.prefs = JSON.stringify({ ...JSON.parse(root.dataset.prefs), ...prefs });
    } catch {
      /* leave it */
    }
  }
  document.dispatchEvent(new CustomEvent("plyr:preferences", { detail: prefs }));
}

function csrf() {
  return document.body?.dataset.csrf || "";
}

export async function save(changes) {
  const response = await fetch("/api/preferences", {
    method: "PATCH",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(changes),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body?.error?.message || `could not save (${response.status})`);
  mirror(body);
  return body;
}

function valueOf(input) {
  const name = input.dataset.pref;
  if (input.type === "checkbox") return input.checked;
  if (input.type === "number") return Number(input.value);
  if (name === "hidden_tags") return input.value.split(",").map((t) => t.trim()).filter(Boolean);
  return input.value;
}

function wire() {
  const form = document.querySelector("form[data-preferences]");
  if (!form || form.dataset.wired) return;
  form.dataset.wired = "true";
  const status = form.querySelector(".pref-status");
  let timer = 0;
  const say = (text, problem = false) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("is-error", problem);
    status.classList.add("is-shown");
    clearTimeout(timer);
    if (!problem) timer = setTimeout(() => status.classList.remove("is-shown"), 2500);
  };
  for (const row of form.querySelectorAll("[data-no-script]")) row.hidden = true;
  const reset = form.querySelector('[data-pref-reset="accent"]');
  const accent = form.querySelector('[data-pref="accent"]');
  if (reset) reset.hidden = false;

  // What the server rendered: the player reads its copy in localStorage.
  let savedAccent = null;
  try {
    const saved = JSON.parse(form.dataset.saved || "{}");
    savedAccent = saved.accent || null;
    mirror(saved);
  } catch {
    /* nothing to mirror */
  }

  const send = async (changes) => {
    applyLook(changes);
    say("saving…");
    try {
      const saved = await save(changes);
      savedAccent = saved.accent;
      applyLook({ theme: saved.theme, accent: saved.accent });
      const tags = form.querySelector('[data-pref="hidden_tags"]');
      if (tags && document.activeElement !== tags) tags.value = saved.hidden_tags.join(", ");
      say("saved");
    } catch (error) {
      say(error.message, true);
    }
  };

  for (const input of form.querySelectorAll("[data-pref]")) {
    const name = input.dataset.pref;
    if (name === "accent") {
      // Live while dragging; saved when the picker settles.
      input.addEventListener("input", () => applyLook({ accent: input.value }));
      input.addEventListener("change", () => send({ accent: input.value }));
      continue;
    }
    input.addEventListener("change", () => {
      if (input.type === "radio" && !input.checked) return;
      send({ [name]: valueOf(input) });
    });
  }
  if (reset && accent) {
    reset.addEventListener("click", () => {
      accent.value = DEFAULT_ACCENT;
      send({ accent: null });
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const changes = {};
    for (const input of form.querySelectorAll("[data-pref]")) {
      if (input.type === "radio" && !input.checked) continue;
      changes[input.dataset.pref] = valueOf(input);
    }
    if (!savedAccent && accent?.value === DEFAULT_ACCENT) changes.accent = null;
    send(changes);
  });
}

wire();
document.addEventListener("htmx:afterSettle", wire);
