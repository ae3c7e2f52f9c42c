// Theme before first paint (no flash), then a toggle cycling system → dark → light.
// Signed in, the server renders the saved theme and accent on <html> (data-theme, the
// --accent style) and the saved preferences as JSON in <html data-prefs="…">: those win,
// the player's copies in localStorage are refreshed from them, and the toggle saves to the
// server. Signed out, this browser's localStorage keeps the theme and accent.
(() => {
  const KEY = "plyr.theme";
  const ORDER = ["system", "dark", "light"];
  const root = document.documentElement;
  const apply = (theme) => {
    root.dataset.theme = ORDER.includes(theme) ? theme : "system";
  };
  let server = null;
  try {
    server = root.dataset.prefs ? JSON.parse(root.dataset.prefs) : null;
  } catch {
    server = null;
  }
  if (server) {
    apply(server.theme);
    if (server.accent && /^#[0-9a-f]{6}$/i.test(server.accent)) root.style.setProperty("--accent", server.accent);
    else root.style.removeProperty("--accent");
    localStorage.setItem(KEY, root.dataset.theme);
    if (server.accent) localStorage.setItem("plyr.accent", server.accent);
    else localStorage.removeItem("plyr.accent");
    localStorage.setItem("plyr.autoadvance", server.auto_advance ? "on" : "off");
    localStorage.setItem("plyr.normalize", server.loudness_levelling ? "on" : "off");
    if (server.transition) localStorage.setItem("plyr.transition", server.transition);
    if (server.crossfade_seconds) localStorage.setItem("plyr.crossfade", String(server.crossfade_seconds));
  } else {
    apply(localStorage.getItem(KEY));
    const accent = localStorage.getItem("plyr.accent");
    if (accent && /^#[0-9a-f]{6}$/i.test(accent)) root.style.setProperty("--accent", accent);
  }

  const signedIn = () => document.body?.dataset.signedIn === "true";
  const saveTheme = (theme) =>
    fetch("/api/preferences", {
      method: "PATCH",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": document.body.dataset.csrf || "",
      },
      body: JSON.stringify({ theme }),
    }).catch(() => {});

  const label = (button) =>
    button.setAttribute("aria-label", `theme: ${root.dataset.theme === "system" ? "follow system" : root.dataset.theme}`);

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("[data-theme-toggle]")) {
      label(button);
      button.addEventListener("click", () => {
        const next = ORDER[(ORDER.indexOf(root.dataset.theme) + 1) % ORDER.length];
        localStorage.setItem(KEY, next);
        apply(next);
        label(button);
        if (signedIn()) {
          saveTheme(next);
          for (const radio of document.querySelectorAll('input[data-pref="theme"]')) radio.checked = radio.value === next;
        }
      });
    }
  });
  // The settings page changed the theme: keep the toggle's label in step.
  document.addEventListener("plyr:preferences", () => {
    for (const button of document.querySelectorAll("[data-theme-toggle]")) label(button);
  });
})();
