// The settings page's "look and player" panel: preferences kept in this browser.
// (Server-side preferences per user come with the social layer.)

const STORE = { accent: "plyr.accent", autoadvance: "plyr.autoadvance", normalize: "plyr.normalize" };

function wire() {
  const panel = document.querySelector("[data-preferences]");
  if (!panel || panel.dataset.wired) return;
  panel.dataset.wired = "true";
  const root = document.documentElement;
  for (const input of panel.querySelectorAll("[data-pref]")) {
    const key = STORE[input.dataset.pref];
    const saved = localStorage.getItem(key);
    if (input.type === "checkbox") input.checked = saved !== "off";
    else if (saved) input.value = saved;
    input.addEventListener("input", () => {
      if (input.type === "checkbox") localStorage.setItem(key, input.checked ? "on" : "off");
      else {
        localStorage.setItem(key, input.value);
        root.style.setProperty("--accent", input.value);
      }
    });
  }
  for (const reset of panel.querySelectorAll("[data-pref-reset]")) {
    reset.addEventListener("click", () => {
      localStorage.removeItem(STORE[reset.dataset.prefReset]);
      root.style.removeProperty("--accent");
      panel.querySelector('[data-pref="accent"]').value = "#7c9cff";
    });
  }
}

wire();
document.addEventListener("htmx:afterSettle", wire);
