// Tag effects (templates/_tag_effects.html): the "hide the #tag effect" box is remembered
// in this browser, so a listener who turned the drifting images off does not meet them on
// the next tagged track. Without this module the box still works for the page (the CSS
// hides the layer while it is ticked). htmx swaps pages under us and this module runs
// once: everything by delegation, and again after each swap.

const KEY = "plyr.tagEffects.off";

function remembered() {
  try {
    return localStorage.getItem(KEY) === "1";
  } catch {
    return false; // storage refused (private mode, policy): the page's box still works
  }
}

function apply() {
  if (!remembered()) return;
  document.querySelectorAll("[data-tag-effect-off]").forEach((box) => {
    box.checked = true;
  });
}

document.addEventListener("change", (event) => {
  const box = event.target instanceof Element ? event.target.closest("[data-tag-effect-off]") : null;
  if (!box) return;
  try {
    if (box.checked) localStorage.setItem(KEY, "1");
    else localStorage.removeItem(KEY);
  } catch {
    // not remembered; this page follows the box anyway
  }
});
document.addEventListener("htmx:afterSettle", apply);
apply();
