// The search dialog: Cmd/Ctrl+K (or "/") opens it from any page. Typing asks /api/search
// (debounced; answers to older keystrokes are dropped), results come grouped by type, the
// arrows move through them, enter opens one, shift+enter adds a track to the player's queue
// (a `plyr:enqueue` event; the dialog stays open), esc closes and gives focus back. The dialog
// lives outside <main>, so htmx navigation keeps it (and the music) in place; without
// JavaScript the header's search link and the /search page do the same job.

const DEBOUNCE_MS = 150;
const PER_GROUP = 5;
const LABELS = { tracks: "tracks", artists: "artists", albums: "albums", playlists: "playlists", tags: "tags" };
const ICONS = { track: "♪", artist: "@", album: "◎", playlist: "≡", tag: "#" };

const dialog = document.getElementById("search-dialog");
const form = dialog?.querySelector("form");
const input = document.getElementById("search-input");
const listbox = document.getElementById("search-results");
const status = dialog?.querySelector("[data-search-status]");

let opener = null;
let timer = 0;
let sequence = 0;
let controller = null;
let options = [];
let active = -1;

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function setActive(index) {
  if (options[active]) options[active].setAttribute("aria-selected", "false");
  active = options.length ? (index + options.length) % options.length : -1;
  const option = options[active];
  if (option) {
    option.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

function option(href, id) {
  // A link, so a click (or enter, which clicks it) navigates through htmx like any other.
  const node = element("a", { role: "option", id, href, tabindex: "-1", "aria-selected": "false", class: "search-option" });
  node.addEventListener("mousemove", () => {
    const index = options.indexOf(node);
    if (index !== active) setActive(index);
  });
  return node;
}

function hitOption(hit, index) {
  const node = option(hit.url, `search-option-${index}`);
  if (hit.type === "track") {
    node.dataset.trackId = hit.id;
    node.dataset.trackTitle = hit.title;
  }
  if (hit.image_url) {
    const art = element("img", { src: hit.image_url, alt: "", width: "40", height: "40", loading: "lazy" });
    art.className = `search-art${hit.type === "artist" ? " avatar" : ""}${hit.sensitive ? " sensitive" : ""}`;
    node.append(art);
  } else {
    const art = element("span", { "aria-hidden": "true" }, ICONS[hit.type] || "•");
    art.className = `search-art placeholder${hit.type === "artist" ? " avatar" : ""}`;
    node.append(art);
  }
  const text = element("span", { class: "search-text" });
  text.append(element("span", { class: "search-title keep-case" }, `${hit.type === "tag" ? "#" : ""}${hit.title}`));
  if (hit.subtitle) text.append(element("span", { class: "search-subtitle muted small keep-case" }, hit.subtitle));
  node.append(text);
  // Shown on the highlighted track only (search.css); the status line says it to readers.
  if (hit.type === "track") node.append(element("kbd", { class: "search-queue-hint", "aria-hidden": "true" }, "shift+enter: queue"));
  return node;
}

function render(body, query) {
  options = [];
  active = -1;
  input.removeAttribute("aria-activedescendant");
  listbox.replaceChildren();
  if (!body) {
    input.setAttribute("aria-expanded", "false");
    listbox.hidden = true;
    status.textContent = "";
    return;
  }
  for (const group of body.groups) {
    const labelId = `search-group-label-${group.type}`;
    const section = element("div", { role: "group", "aria-labelledby": labelId, class: "search-group" });
    section.append(element("div", { id: labelId, class: "search-group-label", role: "presentation" }, LABELS[group.type] || group.type));
    for (const hit of group.hits) {
      const node = hitOption(hit, options.length);
      options.push(node);
      section.append(node);
    }
    listbox.append(section);
  }
  const all = option(`/search?${new URLSearchParams({ q: query })}`, "search-option-all");
  all.classList.add("search-all");
  all.textContent = body.total ? `all results for “${query}”` : `search for “${query}” on the results page`;
  options.push(all);
  listbox.append(all);
  window.htmx?.process(listbox);
  listbox.hidden = false;
  input.setAttribute("aria-expanded", "true");
  const queueable = options.some((node) => node.dataset.trackId);
  status.textContent = body.total
    ? `${body.total} ${body.total === 1 ? "result" : "results"}; arrows to move, enter to open${queueable ? ", shift+enter to add a track to the queue" : ""}`
    : `nothing matches “${query}”`;
  setActive(body.total ? 0 : options.length - 1);
}

async function run() {
  const query = input.value.trim();
  const mine = ++sequence;
  controller?.abort();
  if (!query) {
    render(null, "");
    return;
  }
  controller = new AbortController();
  try {
    const params = new URLSearchParams({ q: query, limit: String(PER_GROUP) });
    const response = await fetch(`/api/search?${params}`, {
      headers: { Accept: "application/json" },
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(`search answered ${response.status}`);
    const body = await response.json();
    if (mine !== sequence) return; // a later keystroke has its own request
    render(body, query);
  } catch (error) {
    if (error.name === "AbortError" || mine !== sequence) return;
    status.textContent = "search is not reachable right now";
  }
}

function open() {
  if (!dialog.open) {
    opener = document.activeElement;
    dialog.showModal();
  }
  input.focus();
  input.select();
  if (input.value.trim() && !options.length) run();
}

/** Shift+enter on a track: it joins the queue (the player says so too); the dialog stays. */
function addToQueue(node) {
  if (!node?.dataset.trackId) {
    if (node) status.textContent = "only tracks join the queue: pick a track with the arrows";
    return false;
  }
  document.dispatchEvent(new CustomEvent("plyr:enqueue", { detail: { id: Number(node.dataset.trackId) } }));
  status.textContent = `added “${node.dataset.trackTitle}” to the queue`;
  return true;
}

function follow(node) {
  if (!node) return;
  dialog.close();
  node.click();
}

if (dialog && input && listbox && status) {
  document.addEventListener("keydown", (event) => {
    if (event.key.toLowerCase() === "k" && (event.metaKey || event.ctrlKey) && !event.altKey && !event.shiftKey) {
      event.preventDefault();
      if (dialog.open) dialog.close();
      else open();
    } else if (event.key === "/" && !event.metaKey && !event.ctrlKey && !event.altKey && !dialog.open) {
      if (event.target.closest("input, textarea, select, [contenteditable]")) return;
      event.preventDefault();
      open();
    }
  });

  document.addEventListener("click", (event) => {
    const trigger = event.target.closest("[data-search-open]");
    if (!trigger || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    open();
  });

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!options.length) return;
      setActive(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && event.shiftKey) {
      event.preventDefault();
      addToQueue(options[active]);
    } else if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      if (options[active]) follow(options[active]);
      else if (input.value.trim()) run().then(() => follow(options[active]));
    }
  });

  // Without an option to follow, the form goes to the results page (also without JS).
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (options[active]) follow(options[active]);
  });

  listbox.addEventListener("click", (event) => {
    const node = event.target.closest('[role="option"]');
    if (node && !event.ctrlKey && !event.metaKey && !event.shiftKey) dialog.close();
  });

  dialog.querySelector("[data-search-close]")?.addEventListener("click", () => dialog.close());
  // A click on the backdrop (the dialog element itself, outside its box) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    clearTimeout(timer);
    const back = opener;
    opener = null;
    if (back && back.isConnected && typeof back.focus === "function") back.focus();
  });
}
