// Toasts: one role="status" region in base.html. Anything can show one with
// window.plyrToast(message, failed); htmx responses ask for one with an HX-Trigger header
// ({"toast": {"message": "…", "failed": false}}), and non-JS form posts come back with
// ?done= / ?failed= that the server renders into the region (hidden again here).
(function () {
  const LIFETIME = 4500;

  function region() {
    let found = document.getElementById("toasts");
    if (!found) {
      found = Object.assign(document.createElement("div"), { id: "toasts", className: "toasts" });
      found.setAttribute("role", "status");
      found.setAttribute("aria-live", "polite");
      document.body.append(found);
    }
    return found;
  }

  function toast(message, failed = false) {
    if (!message) return;
    const note = Object.assign(document.createElement("p"), {
      className: failed ? "toast failed" : "toast",
      textContent: message,
    });
    region().append(note);
    setTimeout(() => note.remove(), failed ? LIFETIME * 1.5 : LIFETIME);
  }

  window.plyrToast = toast;

  document.addEventListener("toast", (event) => {
    const detail = event.detail || {};
    toast(detail.message || detail.value, Boolean(detail.failed));
  });
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail?.xhr?.status;
    toast(status === 403 ? "this form has expired: reload the page" : `that did not work (${status})`, true);
  });
  document.addEventListener("htmx:sendError", () => toast("plyr cannot be reached: check your connection", true));

  function tidyServerToasts() {
    const shown = document.querySelectorAll("[data-server-toast]");
    if (!shown.length) return;
    setTimeout(() => shown.forEach((note) => note.remove()), LIFETIME);
    // The notice is shown once: a reload or a shared link should not show it again.
    const url = new URL(window.location.href);
    if (url.searchParams.has("done") || url.searchParams.has("failed")) {
      url.searchParams.delete("done");
      url.searchParams.delete("failed");
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", tidyServerToasts);
  else tidyServerToasts();
})();
