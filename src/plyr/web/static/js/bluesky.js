// "share to bluesky" on the track page: a dialog where the post's text can be edited (300
// characters at most, counted as people see them), the post through the JSON API, then a
// toast linking to it on bsky.app. When plyr may not post yet, the API says
// `bluesky_scope_missing`: the text waits in sessionStorage while the browser goes
// through the scope upgrade at the user's pds, and the post goes out when it comes back
// (/tracks/{id}?share=bluesky). All by event delegation: htmx swaps the page under us.

const PENDING = "plyr:bluesky-share";
const TOAST_SECONDS = 12;
const segmenter = "Segmenter" in Intl ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

const graphemes = (text) => (segmenter ? [...segmenter.segment(text)].length : [...text].length);
const dialogOf = (trackId) => document.getElementById(`bluesky-dialog-${trackId}`);

function count(form) {
  const text = form.querySelector("[data-bluesky-text]");
  const shown = form.querySelector("[data-bluesky-count]");
  const max = Number(form.dataset.blueskyMax || 300);
  const used = graphemes(text.value.trim());
  const over = used > max;
  shown.textContent = over ? `${used - max} over the ${max} a post holds` : `${used} / ${max}`;
  shown.classList.toggle("over", over);
  text.setAttribute("aria-invalid", String(over));
  form.querySelector("[data-bluesky-submit]").disabled = over || used === 0;
}

function showError(form, message) {
  const box = form?.querySelector("[data-bluesky-error]");
  if (!box) {
    window.plyrToast?.(message, true);
    return;
  }
  box.textContent = message;
  box.hidden = !message;
}

function open(trackId, text) {
  const dialog = dialogOf(trackId);
  if (!dialog) return false;
  const form = dialog.querySelector("[data-bluesky-form]");
  if (text !== undefined) form.querySelector("[data-bluesky-text]").value = text;
  showError(form, "");
  count(form);
  dialog.showModal();
  form.querySelector("[data-bluesky-text]").focus();
  return true;
}

function toastPosted(answer) {
  const region = document.getElementById("toasts");
  const note = Object.assign(document.createElement("p"), { className: "toast bluesky-toast" });
  note.append(answer.state === "posted" ? "posted to bluesky · " : "your post is on its way to bluesky · ");
  note.append(Object.assign(document.createElement("a"), {
    href: answer.url,
    textContent: "see it on bsky.app",
    target: "_blank",
    rel: "noopener",
  }));
  region.append(note);
  setTimeout(() => note.remove(), TOAST_SECONDS * 1000);
}

/** Ask the user's pds for the permission to post, then come back and post `text`. */
function upgrade(trackId, text) {
  sessionStorage.setItem(PENDING, JSON.stringify({ trackId: String(trackId), text }));
  const form = Object.assign(document.createElement("form"), { method: "post", action: "/settings/sharing" });
  const fields = {
    csrf_token: document.body.dataset.csrf || "",
    enabled: "on",
    next: `/tracks/${trackId}?share=bluesky`,
  };
  for (const [name, value] of Object.entries(fields)) {
    form.append(Object.assign(document.createElement("input"), { type: "hidden", name, value }));
  }
  form.setAttribute("hx-boost", "false");
  document.body.append(form);
  form.submit(); // a plain navigation: htmx does not see programmatic submits
}

async function send(trackId, text, form, { mayUpgrade = true } = {}) {
  const button = form?.querySelector("[data-bluesky-submit]");
  if (button) button.disabled = true;
  showError(form, "");
  let response;
  let answer = {};
  try {
    response = await fetch(`/api/tracks/${trackId}/share/bluesky`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": document.body.dataset.csrf || "",
      },
      body: JSON.stringify({ text }),
    });
    answer = await response.json().catch(() => ({}));
  } catch {
    showError(form, "plyr cannot be reached: check your connection");
    if (button) button.disabled = false;
    return;
  }
  if (response.ok) {
    form?.closest("dialog")?.close();
    toastPosted(answer);
    return;
  }
  const error = answer.error || {};
  if (response.status === 403 && error.code === "bluesky_scope_missing" && mayUpgrade) {
    upgrade(trackId, text);
    return;
  }
  if (button) button.disabled = false;
  showError(form, error.message || `that did not work (${response.status})`);
}

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-bluesky-open]");
  if (opener && open(opener.dataset.blueskyOpen)) {
    event.preventDefault(); // the link is the page without JavaScript
    return;
  }
  if (event.target.closest("[data-bluesky-close]")) event.target.closest("dialog")?.close();
});

document.addEventListener("input", (event) => {
  if (event.target.matches?.("[data-bluesky-text]")) count(event.target.form);
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest?.("[data-bluesky-form]");
  if (!form) return;
  event.preventDefault();
  send(form.dataset.blueskyForm, form.querySelector("[data-bluesky-text]").value.trim(), form);
});

/** Back from the upgrade: post what the user confirmed before it (once). */
function resume() {
  const url = new URL(window.location.href);
  if (url.searchParams.get("share") !== "bluesky") return;
  url.searchParams.delete("share");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  const trackId = document.querySelector("[data-track-page]")?.dataset.trackPage;
  let pending = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  } catch {
    pending = null;
  }
  sessionStorage.removeItem(PENDING);
  if (!trackId) return;
  if (pending && pending.trackId === trackId && open(trackId, pending.text)) {
    // Once: a second refusal is shown in the dialog instead of another upgrade.
    send(trackId, pending.text, dialogOf(trackId).querySelector("[data-bluesky-form]"), { mayUpgrade: false });
  } else {
    open(trackId);
  }
}

for (const form of document.querySelectorAll("[data-bluesky-form]")) count(form);
resume();
