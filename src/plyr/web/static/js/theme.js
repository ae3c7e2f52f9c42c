// Theme before first paint (no flash), then a toggle cycling system → dark → light.
(() => {
  const KEY = "plyr.theme";
  const ORDER = ["system", "dark", "light"];
  const root = document.documentElement;
  const apply = (theme) => {
    root.dataset.theme = ORDER.includes(theme) ? theme : "system";
  };
  apply(localStorage.getItem(KEY));
  const accent = localStorage.getItem("plyr.accent");
  if (accent && /^#[0-9a-f]{6}$/i.test(accent)) root.style.setProperty("--accent", accent);
  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("[data-theme-toggle]")) {
      const label = () => button.setAttribute("aria-label", `theme: ${root.dataset.theme === "system" ? "follow system" : root.dataset.theme}`);
      label();
      button.addEventListener("click", () => {
        const next = ORDER[(ORDER.indexOf(root.dataset.theme) + 1) % ORDER.length];
        localStorage.setItem(KEY, next);
        apply(next);
        label();
      });
    }
  });
})();
