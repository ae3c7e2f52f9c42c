// Social parts of the pages, all by event delegation (htmx swaps the page under us):
// timestamps that seek the player, comments that take the player's position, the
// "add to playlist" menu, reordering albums and playlists, and the library's tabs.

let audio = document.getElementById("player-audio");
const toast = (message, failed = false) => window.plyrToast?.(message, failed);

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/** POST a form the way htmx would, and show the toast the answer carries. */
async function post(url, fields) {
  const body = new URLSearchParams();
  for (const [key, value] of fields) body.append(key, String(value));
  body.set("csrf_token", document.body.dataset.csrf || "");
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
  } catch {
    toast("plyr cannot be reached: check your connection", true);
    return false;
  }
  const trigger = response.headers.get("HX-Trigger");
  if (trigger) {
    try {
      const { toast: note } = JSON.parse(trigger);
      if (note) {
        toast(note.message, note.failed);
        return response.ok && !note.failed;
      }
    } catch {
      /* not ours */
    }
  }
  if (!response.ok) toast(`that did not work (${response.status})`, true);
  return response.ok;
}

// --- timestamps seek the player ---------------------------------------------------------

function playingTrackId() {
  return audio?.getAttribute("src") ? audio.dataset.trackId : undefined;
}

async function seekTo(trackId, seconds) {
  if (!audio) return;
  if (playingTrackId() === String(trackId)) {
    audio.currentTime = seconds;
    if (audio.paused) audio.play().catch(() => {});
    return;
  }
  // Start the track through the player (its own click handling), then seek once loaded.
  const starter = Object.assign(document.createElement("button"), { type: "button", hidden: true });
  starter.dataset.playTrack = String(trackId);
  document.body.append(starter);
  starter.click();
  starter.remove();
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (audio.dataset.trackId === String(trackId) && audio.readyState >= 1) {
      audio.currentTime = seconds;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

document.addEventListener("click", (event) => {
  const stamp = event.target.closest("[data-seek]");
  if (!stamp || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  seekTo(stamp.dataset.seekTrack, Number(stamp.dataset.seek));
});

// --- comments take the player's position while their track plays ------------------------

function syncCommentPosition(force = false) {
  const id = playingTrackId();
  if (!id) return;
  const field = document.querySelector(`[data-comment-form="${id}"] [data-comment-at]`);
  if (field && (force || !field.dataset.touched)) field.value = clock(audio.currentTime);
}

const heard = new Set();
function listenTo(deck) {
  if (!deck || heard.has(deck)) return;
  heard.add(deck);
  deck.addEventListener("timeupdate", () => syncCommentPosition());
}
listenTo(audio);
// A gapless or crossfaded transition: another <audio> plays now (player/decks.js).
document.addEventListener("plyr:deck", (event) => {
  audio = event.detail.audio;
  listenTo(audio);
});
document.addEventListener("input", (event) => {
  if (event.target.matches?.("[data-comment-at]")) event.target.dataset.touched = "true";
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches?.("[data-comment-form] textarea")) syncCommentPosition();
});
// Before htmx (or the browser) reads the form: the position at the moment of posting.
document.addEventListener("submit", (event) => {
  if (event.target.matches?.("[data-comment-form]")) syncCommentPosition();
}, true);

// --- the "add to playlist" menu ----------------------------------------------------------

let open = null; // { button, menu }
let playlists = null;

async function loadPlaylists() {
  if (playlists) return playlists;
  const response = await fetch("/library/playlist-menu", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error("your playlists did not load");
  playlists = (await response.json()).playlists;
  return playlists;
}

function items(menu) {
  return [...menu.querySelectorAll('[role="menuitem"], input')];
}

function focusItem(menu, index) {
  const all = items(menu);
  if (!all.length) return;
  const next = all[(index + all.length) % all.length];
  next.focus();
}

function closeMenu(returnFocus) {
  if (!open) return;
  const { button, menu } = open;
  open = null;
  menu.remove();
  button.setAttribute("aria-expanded", "false");
  button.removeAttribute("aria-controls");
  if (returnFocus) button.focus();
}

function menuItem(label, meta, action, extraClass = "") {
  const item = Object.assign(document.createElement("button"), {
    type: "button",
    className: `menu-item keep-case ${extraClass}`.trim(),
    tabIndex: -1,
    textContent: label,
  });
  item.setAttribute("role", "menuitem");
  if (meta) {
    const note = Object.assign(document.createElement("span"), { className: "muted small", textContent: meta });
    note.setAttribute("aria-hidden", "true");
    item.append(note);
  }
  item.addEventListener("click", action);
  return item;
}

async function openMenu(button, focusLast = false) {
  closeMenu(false);
  const menu = document.createElement("div");
  menu.className = "menu";
  menu.id = `playlist-menu-${button.dataset.playlistMenu}`;
  menu.setAttribute("role", "menu");
  menu.setAttribute("aria-label", `add ${button.dataset.trackTitle || "this track"} to a playlist`);
  menu.innerHTML = '<p class="menu-note muted small">loading your playlists…</p>';
  button.closest(".menu-wrap").append(menu);
  button.setAttribute("aria-expanded", "true");
  button.setAttribute("aria-controls", menu.id);
  open = { button, menu };
  let found = [];
  try {
    found = await loadPlaylists();
  } catch (error) {
    toast(error.message, true);
  }
  if (open?.menu !== menu) return;
  menu.replaceChildren();
  const trackId = button.dataset.playlistMenu;
  for (const playlist of found) {
    menu.append(
      menuItem(playlist.name, String(playlist.count), async () => {
        closeMenu(true);
        if (await post(`/playlists/${playlist.id}/add`, [["track_id", trackId]])) playlists = null;
      }),
    );
  }
  menu.append(menuItem("new playlist…", "", () => showNewPlaylist(menu, button), "menu-new"));
  focusItem(menu, focusLast ? -1 : 0);
}

function showNewPlaylist(menu, button) {
  const row = document.createElement("div");
  row.className = "menu-create";
  const input = Object.assign(document.createElement("input"), {
    type: "text",
    maxLength: 64,
    placeholder: "playlist name",
  });
  input.setAttribute("aria-label", "new playlist name");
  const create = menuItem("create", "", () => createPlaylist(input, button), "menu-create-button");
  row.append(input, create);
  menu.querySelector(".menu-new")?.replaceWith(row);
  input.focus();
}

async function createPlaylist(input, button) {
  const name = input.value.trim();
  if (!name) {
    toast("give the playlist a name", true);
    input.focus();
    return;
  }
  closeMenu(true);
  playlists = null;
  await post("/playlists/new", [["name", name], ["track_id", button.dataset.playlistMenu]]);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-playlist-menu]");
  if (button) {
    event.preventDefault(); // the no-JS fallback is a form that opens /tracks/{id}/add
    if (open?.button === button) closeMenu(true);
    else openMenu(button);
    return;
  }
  if (open && !event.composedPath().includes(open.menu)) closeMenu(false);
});

// On window, capturing: the player's shortcuts (space, arrows) must not see these keys.
window.addEventListener("keydown", (event) => {
  const button = event.target.closest?.("[data-playlist-menu]");
  if (button && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    event.stopPropagation();
    openMenu(button, event.key === "ArrowUp");
    return;
  }
  if (button && event.key === " ") {
    event.stopPropagation(); // a button press, not play/pause
    return;
  }
  if (!open || !open.menu.contains(event.target)) return;
  event.stopPropagation();
  const all = items(open.menu);
  const index = all.indexOf(event.target);
  const typing = event.target.tagName === "INPUT";
  if (event.key === "Escape") {
    event.preventDefault();
    closeMenu(true);
  } else if (event.key === "Enter" && typing) {
    event.preventDefault();
    createPlaylist(event.target, open.button);
  } else if (event.key === "ArrowDown") {
    event.preventDefault();
    focusItem(open.menu, index + 1);
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    focusItem(open.menu, index - 1);
  } else if (event.key === "Home" && !typing) {
    event.preventDefault();
    focusItem(open.menu, 0);
  } else if (event.key === "End" && !typing) {
    event.preventDefault();
    focusItem(open.menu, -1);
  } else if (event.key === "Tab") {
    closeMenu(false);
  }
}, true);

document.addEventListener("htmx:beforeSwap", () => closeMenu(false));

// --- reordering albums and playlists ------------------------------------------------------

function listOf(row) {
  return row?.closest("[data-list-entries][data-reorderable]");
}

function orderOf(list) {
  return [...list.querySelectorAll(":scope > .entry-row")].map((row) => row.dataset.itemId);
}

async function saveOrder(list, before) {
  const after = orderOf(list);
  if (after.join() === before.join()) return;
  list.querySelectorAll(":scope > .entry-row .position").forEach((cell, i) => (cell.textContent = String(i + 1)));
  const ok = await post(`/lists/${list.dataset.listEntries}/order`, after.map((id) => ["item_ids", id]));
  // Either way the page comes back from the server: the saved order, or the real one.
  if (window.htmx) {
    window.htmx.ajax("GET", window.location.pathname, { target: "#main", select: "#main", swap: "outerHTML" });
  } else if (!ok) {
    window.location.reload();
  }
}

function place(dragged, target) {
  const rows = [...target.parentElement.children];
  if (rows.indexOf(dragged) > rows.indexOf(target)) target.before(dragged);
  else target.after(dragged);
}

let dragged = null;
let dragBefore = null;
document.addEventListener("dragstart", (event) => {
  const row = event.target.closest?.(".entry-row");
  if (!row || !listOf(row)) return;
  dragged = row;
  dragBefore = orderOf(listOf(row));
  row.classList.add("dragging");
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", row.dataset.itemId);
});
document.addEventListener("dragover", (event) => {
  const row = event.target.closest?.(".entry-row");
  if (!dragged || !row || listOf(row) !== listOf(dragged)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
});
document.addEventListener("drop", (event) => {
  const row = event.target.closest?.(".entry-row");
  if (!dragged || !row || listOf(row) !== listOf(dragged)) return;
  event.preventDefault();
  if (row !== dragged) place(dragged, row);
  const list = listOf(dragged);
  dragged.classList.remove("dragging");
  dragged = null;
  saveOrder(list, dragBefore);
});
document.addEventListener("dragend", () => {
  dragged?.classList.remove("dragging");
  dragged = null;
});

// Touch screens: drag by the grip with a finger (HTML drag and drop is mouse-only there).
document.addEventListener("pointerdown", (event) => {
  const grip = event.target.closest?.(".entry-row .grip");
  if (!grip || event.pointerType === "mouse") return;
  const row = grip.closest(".entry-row");
  const list = listOf(row);
  if (!list) return;
  event.preventDefault();
  const before = orderOf(list);
  row.classList.add("dragging");
  grip.setPointerCapture(event.pointerId);
  const move = (e) => {
    const under = document.elementFromPoint(e.clientX, e.clientY)?.closest(".entry-row");
    if (under && under !== row && listOf(under) === list) place(row, under);
  };
  const end = () => {
    grip.removeEventListener("pointermove", move);
    row.classList.remove("dragging");
    saveOrder(list, before);
  };
  grip.addEventListener("pointermove", move);
  grip.addEventListener("pointerup", end, { once: true });
  grip.addEventListener("pointercancel", end, { once: true });
});

// --- the library's tabs (links without JavaScript) ------------------------------------------

function selectTab(tab, focus = false) {
  const list = tab.closest('[role="tablist"]');
  for (const other of list.querySelectorAll('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    const panel = document.getElementById(other.getAttribute("aria-controls"));
    if (panel) panel.hidden = !selected;
  }
  if (focus) tab.focus();
  const url = new URL(tab.href, window.location.href);
  history.replaceState(history.state, "", url.pathname + url.search);
}

document.addEventListener("click", (event) => {
  const tab = event.target.closest?.("[data-tabs] [role='tab']");
  if (!tab || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  selectTab(tab);
});
window.addEventListener("keydown", (event) => {
  const tab = event.target.closest?.("[data-tabs] [role='tab']");
  if (!tab) return;
  event.stopPropagation();
  const tabs = [...tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]')];
  const index = tabs.indexOf(tab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
}, true);
