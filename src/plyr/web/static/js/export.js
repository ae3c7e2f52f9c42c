// The portal's "export everything": start the export job through the API, follow its
// progress (GET /api/me/exports/{id} once a second) on an ARIA progressbar, then offer the
// zip's link with its expiry in local time. Without JavaScript the form posts to
// /portal/export and the page refreshes itself while the export runs.

const POLL_MS = 1000;
const UNFINISHED = new Set(["queued", "running"]);
let timer = 0;

const part = (root, name) => root.querySelector(`[data-export-${name}]`);

function megabytes(bytes) {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function localTime(time) {
  const moment = new Date(time.getAttribute("datetime"));
  if (Number.isNaN(moment.getTime())) return;
  time.textContent = moment
    .toLocaleString([], { dateStyle: "medium", timeStyle: "short" })
    .toLowerCase();
}

function describe(exp) {
  const percent = Math.round(exp.progress * 100);
  switch (exp.status) {
    case "queued":
      return "waiting for its turn…";
    case "running":
      return `packing your files: ${exp.files} so far, ${percent} %`;
    case "ready":
      return `ready: ${megabytes(exp.size_bytes ?? 0)}, ${exp.files} files.`;
    case "failed":
      return `the export failed: ${exp.error ?? "unknown"}. try again.`;
    default:
      return "your last export's link has expired; export again for a new one.";
  }
}

function show(root, exp) {
  root.dataset.exportId = exp.id;
  root.dataset.exportStatus = exp.status;
  const busy = UNFINISHED.has(exp.status);
  const percent = Math.round(exp.progress * 100);
  const bar = part(root, "bar");
  bar.hidden = !busy;
  bar.setAttribute("aria-valuenow", String(percent));
  bar.querySelector(".progress-fill").style.width = `${percent}%`;
  const state = part(root, "state");
  state.dataset.state = exp.status;
  state.textContent = describe(exp);
  part(root, "start").disabled = busy;
  const link = part(root, "link");
  const expiry = part(root, "expiry");
  link.hidden = expiry.hidden = !exp.download_url;
  if (exp.download_url) {
    link.href = exp.download_url;
    const time = expiry.querySelector("time");
    time.setAttribute("datetime", exp.expires_at);
    localTime(time);
  }
}

function problem(root, message) {
  const state = part(root, "state");
  state.dataset.state = "failed";
  state.textContent = message;
}

async function follow(root) {
  clearTimeout(timer);
  if (!root.isConnected) return; // the page moved on
  let exp;
  try {
    const response = await fetch(`/api/me/exports/${encodeURIComponent(root.dataset.exportId)}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      problem(root, `could not follow the export (${response.status}); reload the page.`);
      return;
    }
    exp = await response.json();
  } catch {
    timer = setTimeout(() => follow(root), POLL_MS * 3); // offline for a moment: keep trying
    return;
  }
  show(root, exp);
  if (UNFINISHED.has(exp.status)) timer = setTimeout(() => follow(root), POLL_MS);
}

async function start(root, event) {
  event.preventDefault();
  const button = part(root, "start");
  button.disabled = true;
  let body = {};
  let response;
  try {
    response = await fetch("/api/me/exports", {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRF-Token": document.body.dataset.csrf || "" },
    });
    body = await response.json();
  } catch {
    button.disabled = false;
    problem(root, "the connection dropped; try again.");
    return;
  }
  if (response.status !== 202) {
    button.disabled = false;
    problem(root, body.error?.message ?? `the export could not start (${response.status}).`);
    return;
  }
  show(root, body);
  follow(root);
}

function init() {
  const root = document.querySelector("[data-export]");
  if (!root || root.dataset.wired) return;
  root.dataset.wired = "true";
  part(root, "form").addEventListener("submit", (event) => start(root, event));
  const time = part(root, "expiry").querySelector("time");
  if (time.getAttribute("datetime")) localTime(time);
  if (UNFINISHED.has(root.dataset.exportStatus)) follow(root);
}

init();
document.addEventListener("htmx:afterSettle", init);
