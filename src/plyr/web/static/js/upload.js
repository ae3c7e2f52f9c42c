// The upload page: send the form with a real byte-progress bar, then follow the server's
// progress stream (Server-Sent Events). The upload id lives in the URL, so a reload (or
// coming back later) picks the progress up again.

// Pages arrive through htmx navigation too, and a module runs once per document: wire the
// form whenever an upload page is (re)inserted.
let form, panel, title, bar, fill, warnings, result;

function show(percent, message, phase) {
  panel.hidden = false;
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  bar.setAttribute("aria-valuenow", String(value));
  fill.style.width = `${value}%`;
  title.textContent = message;
  for (const item of panel.querySelectorAll("[data-phase]")) {
    if (item.dataset.phase === phase) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
}

function finish(progress) {
  result.replaceChildren();
  // A failed upload turns the panel red (data-state), its reason below the bar.
  panel.dataset.state = progress.error ? "failed" : "done";
  if (progress.error) title.textContent = "the upload did not go through";
  if (progress.track_id) {
    const link = document.createElement("a");
    link.href = `/tracks/${progress.track_id}`;
    link.textContent = progress.error ? "open the track" : "open the track";
    result.append(link);
  }
  if (progress.error) {
    const error = document.createElement("span");
    error.className = "alert-text";
    error.setAttribute("role", "alert");
    error.textContent = ` ${progress.error}`;
    result.append(error);
  }
  form.hidden = false;
}

function follow(uploadId) {
  const url = new URL(window.location.href);
  url.searchParams.set("upload", uploadId);
  window.history.replaceState(null, "", url);
  const events = new EventSource(`/api/uploads/${encodeURIComponent(uploadId)}/progress`);
  events.addEventListener("progress", (event) => {
    const progress = JSON.parse(event.data);
    // Sending the bytes was the first 10 % of the bar; processing fills the rest.
    show(10 + progress.percent * 0.9, progress.message, progress.phase);
    warnings.replaceChildren(
      ...progress.warnings.map((text) => Object.assign(document.createElement("li"), { textContent: text })),
    );
    if (progress.done) {
      events.close();
      finish(progress);
    }
  });
  events.addEventListener("error", () => {
    // The browser reconnects by itself; say so if it takes a while.
    title.textContent = "connection lost, reconnecting…";
  });
}

function submit(event) {
  event.preventDefault();
  const request = new XMLHttpRequest();
  request.open("POST", "/api/tracks");
  request.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
  request.setRequestHeader("Accept", "application/json");
  request.upload.addEventListener("progress", (progress) => {
    if (progress.lengthComputable) show((progress.loaded / progress.total) * 10, "sending the file…", "sending");
  });
  request.addEventListener("load", () => {
    let body = {};
    try {
      body = JSON.parse(request.responseText);
    } catch {
      body = {};
    }
    if (request.status === 202) {
      show(10, "received, processing…", "queued");
      follow(body.upload_id);
      form.reset();
    } else {
      show(100, body.error?.message ?? `the upload failed (${request.status})`, "failed");
      finish({ error: body.error?.message ?? "the upload failed" });
    }
  });
  request.addEventListener("error", () => finish({ error: "the connection dropped; try again" }));
  form.hidden = true;
  delete panel.dataset.state;
  result.replaceChildren();
  warnings.replaceChildren();
  show(0, "sending the file…", "sending");
  request.send(new FormData(form));
}

function init() {
  form = document.getElementById("upload-form");
  if (!form || form.dataset.wired) return;
  form.dataset.wired = "true";
  panel = document.getElementById("upload-progress");
  title = document.getElementById("progress-title");
  bar = panel.querySelector('[role="progressbar"]');
  fill = panel.querySelector(".progress-fill");
  warnings = document.getElementById("upload-warnings");
  result = document.getElementById("upload-result");
  form.addEventListener("submit", submit);
  const resumed = new URL(window.location.href).searchParams.get("upload");
  if (resumed) follow(resumed);
}

init();
document.addEventListener("htmx:afterSettle", init);

// --- featured artists: a handle typeahead (an ARIA combobox over the comma-separated list) ---

const TYPEAHEAD_DEBOUNCE_MS = 200;

function wireTypeahead(field) {
  if (!field || field.dataset.typeaheadWired) return;
  field.dataset.typeaheadWired = "true";
  const list = document.getElementById(field.getAttribute("aria-controls"));
  let timer = 0;
  let sequence = 0;
  let active = -1;
  let items = [];

  const current = () => field.value.split(",").pop().trim().replace(/^@/, "");

  function close() {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    field.setAttribute("aria-expanded", "false");
    field.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    items[active]?.setAttribute("aria-selected", "false");
    active = items.length ? (index + items.length) % items.length : -1;
    const item = items[active];
    if (!item) return field.removeAttribute("aria-activedescendant");
    item.setAttribute("aria-selected", "true");
    field.setAttribute("aria-activedescendant", item.id);
    item.scrollIntoView({ block: "nearest" });
  }

  function choose(handle) {
    const parts = field.value.split(",");
    parts[parts.length - 1] = ` ${handle}`;
    field.value = `${parts.map((part) => part.trim()).filter(Boolean).join(", ")}, `;
    close();
    field.focus();
  }

  async function lookup() {
    const query = current();
    const mine = ++sequence;
    if (query.length < 2) return close();
    let body;
    try {
      const response = await fetch(`/api/handles/typeahead?${new URLSearchParams({ q: query })}`, {
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      body = await response.json();
    } catch {
      return;
    }
    if (mine !== sequence) return; // typed on meanwhile
    close();
    for (const [index, who] of body.handles.entries()) {
      const item = document.createElement("li");
      item.id = `${list.id}-${index}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      const handle = Object.assign(document.createElement("span"), { className: "handle", textContent: `@${who.handle}` });
      item.append(handle);
      if (who.display_name) {
        item.append(Object.assign(document.createElement("span"), { className: "muted small keep-case", textContent: who.display_name }));
      }
      // mousedown, not click: the field keeps focus (a blur would close the list first).
      item.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(who.handle);
      });
      items.push(item);
      list.append(item);
    }
    if (!items.length) return;
    list.hidden = false;
    field.setAttribute("aria-expanded", "true");
  }

  field.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lookup, TYPEAHEAD_DEBOUNCE_MS);
  });
  field.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && items[active]) {
      event.preventDefault(); // choose, do not submit the form
      choose(items[active].querySelector(".handle").textContent.slice(1));
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  field.addEventListener("blur", () => setTimeout(close, 100));
}

function initTypeahead() {
  for (const field of document.querySelectorAll("[data-handle-typeahead]")) wireTypeahead(field);
}

initTypeahead();
document.addEventListener("htmx:afterSettle", initTypeahead);
