// Backline's web remote. Plain JS, no build step, nothing fetched from elsewhere.
// It reads the box's State from the WebSocket (/api/events) and sends the commands
// every control sends (docs/commands.md) to /api/command; the API is docs/remote.md's
// socket seen through `backline web`. Text from the box is always set as text, never HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let state = null;          // the last State from the box
let songs = [];            // /api/songs
let socket = null;
let retry = 500;           // ms before the next WebSocket attempt (doubles up to 5 s)
let started = false;

// --- small helpers -------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null) continue;
    if (k === "text") node.textContent = v;
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function clock(seconds) {
  if (seconds == null || !isFinite(seconds)) return "—";
  const s = Math.max(0, seconds);
  return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
}

function db(value) {
  return value == null ? "—" : `${value > 0 ? "+" : ""}${value.toFixed(1)}`;
}

class Unpaired extends Error {}

// One request to the API: JSON in and out; a 401 anywhere shows the pairing form.
async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  if (r.status === 401 && path !== "/api/pair") {
    showPairing("");
    throw new Unpaired();
  }
  let data = null;
  try { data = await r.json(); } catch (_) { /* an empty or non-JSON answer */ }
  return { status: r.status, ok: r.ok, data };
}

function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = !text;
  clearTimeout(toast.timer);
  if (text) toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

// A command by its vocabulary's spelling ("toggle-play") or class name with args; whether
// the box took it (a refusal is shown with the box's reason).
async function command(name, args) {
  const body = args ? { command: name, args } : { command: name };
  try {
    const r = await api("POST", "/api/command", body);
    if (r.data && r.data.ok) return true;
    toast((r.data && r.data.error) || `${name}: HTTP ${r.status}`);
  } catch (e) {
    if (!(e instanceof Unpaired)) toast(`${name}: the box did not answer`);
  }
  return false;
}

// --- pairing -------------------------------------------------------------------------
function showPairing(message) {
  $("app").hidden = true;
  $("pair").hidden = false;
  $("pair-error").textContent = message;
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  $("pair-code").focus();
}

$("pair-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const code = $("pair-code").value.trim();
  const r = await api("POST", "/api/pair", { code });
  if (r.ok) { $("pair-code").value = ""; start(); return; }
  $("pair-error").textContent = r.status === 429
    ? "Too many tries: wait a minute, then ask the box for a new code."
    : "That code is wrong, used or expired: ask the box for a new one.";
});

// --- start, tabs, the live link --------------------------------------------------------
async function start() {
  let r;
  try { r = await api("GET", "/api/state"); } catch (e) { return; }   // 401: pairing shown
  $("pair").hidden = true;
  $("app").hidden = false;
  if (r.ok && r.data) render(r.data);
  connect();
  loadSongs();
  if (!started) {
    started = true;
    setInterval(() => { if (!$("view-library").hidden) loadTakes(); }, 10000);
  }
}

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => show(tab.dataset.view));
}

function show(view) {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.classList.toggle("active", tab.dataset.view === view);
  }
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== `view-${view}`;
  if (view === "setlist") loadSetlists();
  if (view === "library") { loadSongs(); loadTakes(); }
  if (view === "mixer" && state) renderMixer(state);
}

function link(text, down) {
  $("link").textContent = text;
  $("link").classList.toggle("down", down);
}

function connect() {
  if (socket) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/api/events`);
  socket = ws;
  let opened = false;
  ws.onopen = () => { opened = true; retry = 500; link("live", false); };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.state) render(msg.state);
  };
  ws.onclose = async () => {
    socket = null;
    if (!opened) {         // refused at connect: unpaired (401: the form), or the server is away
      try { await api("GET", "/api/state"); } catch (e) { if (e instanceof Unpaired) return; }
    }
    link(`connection lost: reconnecting in ${Math.round(retry / 100) / 10} s`, true);
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);
  };
}

// --- Perform -------------------------------------------------------------------------
for (const b of document.querySelectorAll("[data-command]")) {
  b.addEventListener("click", () => {
    // vamp toggles: a second press releases the loop, as the footswitch does
    const name = b.dataset.command === "vamp" && state && state.vamp ? "release-vamp"
      : b.dataset.command;
    command(name);
  });
}

function render(s) {
  state = s;
  $("p-song").textContent = s.song || "no song";
  $("p-index").textContent = s.count ? `${s.index}/${s.count}${s.setlist ? " · " + s.setlist : ""}` : "";
  $("p-section").textContent = s.section || "—";
  $("p-bar").textContent = `${s.bar}.${s.beat}`;
  $("p-bpm").textContent = s.bpm ? `${Math.round(s.bpm * 10) / 10}` : "—";
  $("p-next").textContent = s.next_song || "—";
  const playing = s.transport === "playing" || s.transport === "count-in";
  $("b-play").innerHTML = playing ? "&#9632; Stop" : "&#9654; Play";
  $("b-play").classList.toggle("on", playing);
  $("b-vamp").classList.toggle("on", !!s.vamp);
  $("b-vamp").textContent = s.vamp ? "Release vamp" : "Vamp";
  const tr = $("p-transport");
  tr.textContent = s.transport;
  tr.className = `pill ${playing ? "playing" : ""}`;
  const h = $("p-health");
  h.textContent = s.health + (s.xruns ? ` · ${s.xruns} xruns` : "")
    + (s.disk_underruns ? ` · ${s.disk_underruns} disk` : "");
  h.className = `pill ${s.health === "healthy" ? "ok" : s.health === "recovering" ? "warn" : "bad"}`;
  const rec = s.record || {};
  const r = $("p-rec");
  r.textContent = rec.running ? `● REC ${clock(rec.seconds)}`
    : rec.armed && rec.armed.length ? `armed: ${rec.armed.join(", ")}` : "";
  r.className = `pill ${rec.running ? "rec" : "warn"}`;
  $("p-note").textContent = [s.problem, rec.problem, (s.key_tempo || {}).problem, s.waiting,
    s.pending, s.vamp,
    s.rejected && `refused: ${s.rejected}`].filter(Boolean).join(" · ");
  renderProgress(s);
  renderJumps(s);
  renderLive(s);
  renderMixer(s);
}

function songInfo(name) {
  return songs.find((x) => x.name === name);
}

// Where each song's sections start, in seconds: from the library when /api/songs says
// ({name, seconds}), else learned from the stream the first time the song plays into one.
const sectionStarts = {};

function learnSections(s) {
  const starts = (sectionStarts[s.song_name] ||= {});
  const info = songInfo(s.song_name);
  if (info && info.sections) {
    for (const sec of info.sections) if (sec && sec.seconds != null) starts[sec.name] = sec.seconds;
  }
  const last = learnSections.last;
  if (s.transport === "playing" && s.section && !(s.section in starts) && last
      && last.song_name === s.song_name && last.section !== s.section
      && s.frame >= last.frame) {
    starts[s.section] = s.seconds;       // within a state's tick (50 ms) of its start
  }
  if (s.section && !(s.section in starts) && s.frame === 0) starts[s.section] = 0;
  learnSections.last = s;
  return starts;
}

// The song's bar: how far it has played, its sections marked where they start (those
// known so far), the current one lit.
function renderProgress(s) {
  const total = s.song_frames || 0;
  const f = total ? Math.min(1, Math.max(0, s.frame / total)) : 0;
  $("p-fill").style.width = `${(f * 100).toFixed(2)}%`;
  const rate = total && s.seconds && s.frame ? s.frame / s.seconds : 0;
  const length = rate ? total / rate : (songInfo(s.song_name) || {}).seconds;
  $("p-time").textContent = length ? `${clock(s.seconds)} / ${clock(length)}` : clock(s.seconds);
  const starts = learnSections(s);
  const box = $("p-sections");
  const key = `${s.song_name}|${length}|` + (s.sections || []).map((n) => `${n}@${starts[n]}`).join("|");
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    box.replaceChildren(...(s.sections || []).filter((n) => length && n in starts).map((n) => {
      const span = el("span", { text: n, "data-section": n });
      span.style.left = `${(100 * starts[n] / length).toFixed(2)}%`;
      return span;
    }));
  }
  for (const span of box.children) {
    span.classList.toggle("current", span.dataset.section === s.section);
  }
}

function renderJumps(s) {
  const box = $("p-jumps");
  const key = (s.sections || []).join("|");
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    box.replaceChildren(...(s.sections || []).map((name) =>
      el("button", { text: name, class: "mid", "data-section": name,
                     on: { click: () => command("Jump", { section: name }) } })));
  }
  for (const b of box.children) b.classList.toggle("current", b.dataset.section === s.section);
}

// --- Perform: tempo, key and dynamics, as footswitches, encoders and MIDI change them ---
// TAP sends its tap the moment the finger lands (pointerdown), as a footswitch does; the
// box times each tap on its own clock and plays the tapped tempo from the fourth.
$("b-tap").addEventListener("pointerdown", (ev) => { ev.preventDefault(); tap(); });
$("b-tap").addEventListener("click", (ev) => { if (ev.detail === 0) tap(); });   // Enter, Space

function tap() {
  const b = $("b-tap");
  b.classList.add("on");
  clearTimeout(tap.lit);
  tap.lit = setTimeout(() => b.classList.remove("on"), 120);
  command("TapTempo");
}

$("b-bpm-down").addEventListener("click", () => command("NudgeBpm", { bpm: -1 }));
$("b-bpm-up").addEventListener("click", () => command("NudgeBpm", { bpm: 1 }));
$("p-bpm-set").addEventListener("change", () => {
  const field = $("p-bpm-set");
  const bpm = Number(field.value);
  if (field.value !== "" && isFinite(bpm)) command("SetBpm", { bpm });
  field.blur();                       // the box's tempo shows again, taken or not
});
$("b-key-down").addEventListener("click", () => command("NudgeKey", { semitones: -1 }));
$("b-key-up").addEventListener("click", () => command("NudgeKey", { semitones: 1 }));

// The slider is an expression pedal: its newest value is sent while it moves, one command
// in flight at a time, so a drag never leaves a queue of old values at the box.
function newest(send) {
  let busy = false, wanted = null;
  return async (value) => {
    wanted = value;
    if (busy) return;
    busy = true;
    while (wanted !== null) {
      const v = wanted;
      wanted = null;
      await send(v);
    }
    busy = false;
  };
}
// The slider follows the box's value when that changes (another control) or when the box
// refuses it, but never while a finger holds it, nor back to a value it has just left.
let sliding = false;
let slidTo = null;         // the box's value the slider last showed
const setIntensity = newest(async (level) => {
  if (!await command("SetIntensity", { level })) slidTo = null;
});
$("p-intensity").addEventListener("input", () => setIntensity(Number($("p-intensity").value)));
$("p-intensity").addEventListener("pointerdown", () => { sliding = true; });
window.addEventListener("pointerup", () => { sliding = false; });
window.addEventListener("pointercancel", () => { sliding = false; });

// A key as song.toml or the chart writes it ("E minor", "Bb", "F#m"), moved by `semis`,
// spelled as musicians spell that key; "" when it is not a key name.
const MAJOR = ["C", "D♭", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B"];
const MINOR = ["C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "G♯", "A", "B♭", "B"];
const STEPS = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

function keyName(key, semis) {
  const m = /^\s*([A-Ga-g])([#♯b♭]?)(.*)$/.exec(key || "");
  if (!m) return "";
  const accidental = { "#": 1, "♯": 1, b: -1, "♭": -1 }[m[2]] || 0;
  const pc = (((STEPS[m[1].toUpperCase()] + accidental + semis) % 12) + 12) % 12;
  const minor = /^\s*m(?!aj)/i.test(m[3]);
  return (minor ? MINOR : MAJOR)[pc] + m[3];
}

function semitones(n) {
  return n > 0 ? `+${n}` : n < 0 ? `−${-n}` : "0";
}

function renderLive(s) {
  const kt = s.key_tempo || {};
  const bpm = $("p-bpm-set");
  if (document.activeElement !== bpm) bpm.value = s.bpm ? String(Math.round(s.bpm * 10) / 10) : "";
  const playing = kt.transpose || 0;
  const name = keyName(s.key, playing);
  let key = name ? `${semitones(playing)} · ${name}` : semitones(playing);
  if ((kt.wanted_transpose || 0) !== playing) {      // a song with stems: from the next stop
    key += ` → ${semitones(kt.wanted_transpose)}`
      + (kt.preparing != null ? ` (${Math.round(kt.preparing * 100)}%)` : "");
  }
  $("p-key").textContent = key;
  const dyn = $("p-intensity");
  const parts = kt.intensity != null;
  dyn.disabled = !parts;
  if (parts && !sliding && kt.intensity !== slidTo) {
    dyn.value = String(kt.intensity);
    slidTo = kt.intensity;
  }
  $("p-intensity-read").textContent = parts ? kt.intensity.toFixed(2) : "no parts";
}

// --- Setlist -------------------------------------------------------------------------
const TRANSITIONS = ["stop", "continue", "gapless", "crossfade"];
let entries = [];          // [{song, transition}] being edited

async function loadSongs() {
  try {
    const r = await api("GET", "/api/songs");
    if (!r.ok) return;
    songs = r.data || [];
  } catch (e) { return; }
  renderPick();
  renderSongs();
  if (state) { $("p-sections").dataset.key = ""; renderProgress(state); }
}

async function loadSetlists() {
  let r;
  try { r = await api("GET", "/api/setlists"); } catch (e) { return; }
  if (!r.ok) return;
  const sel = $("s-open");
  const current = $("s-name").value || (state && state.setlist) || "";
  sel.replaceChildren(el("option", { value: "", text: "open a setlist…" }),
    ...r.data.map((n) => el("option", { value: n, text: n })));
  if (!entries.length && r.data.includes(current)) openSetlist(current);
  loadSongs();
}

$("s-open").addEventListener("change", () => {
  if ($("s-open").value) openSetlist($("s-open").value);
});

async function openSetlist(name) {
  const r = await api("GET", `/api/setlists/${encodeURIComponent(name)}`);
  if (!r.ok) { msg((r.data && r.data.error) || `${name}: HTTP ${r.status}`, true); return; }
  $("s-name").value = r.data.name;
  $("s-open").value = r.data.name;
  entries = r.data.songs.map((song, i) => ({ song, transition: r.data.transitions[i] || "stop" }));
  renderEntries();
  msg((r.data.problems || []).join("; "), !!(r.data.problems || []).length);
}

$("s-new").addEventListener("click", () => {
  entries = [];
  $("s-name").value = "";
  $("s-open").value = "";
  renderEntries();
  msg("");
  $("s-name").focus();
});

function msg(text, bad = false) {
  $("s-msg").textContent = text;
  $("s-msg").classList.toggle("bad", bad);
}

function move(from, to) {
  if (to < 0 || to >= entries.length || from === to) return;
  const [e] = entries.splice(from, 1);
  entries.splice(to, 0, e);
  renderEntries();
}

function transitionPicker(entry) {
  const m = /^crossfade\s+(\d+)\s*ms$/.exec(entry.transition);
  const kind = m ? "crossfade" : entry.transition;
  const sel = el("select", { "aria-label": "transition", class: "transition" },
    ...TRANSITIONS.map((t) => el("option", { value: t, text: t })));
  sel.value = TRANSITIONS.includes(kind) ? kind : "stop";
  const ms = el("input", { type: "number", min: "0", step: "100", class: "ms",
                           "aria-label": "crossfade ms", value: m ? m[1] : "1500" });
  ms.hidden = sel.value !== "crossfade";
  const update = () => {
    ms.hidden = sel.value !== "crossfade";
    entry.transition = sel.value === "crossfade" ? `crossfade ${ms.value || 0} ms` : sel.value;
  };
  sel.addEventListener("change", update);
  ms.addEventListener("input", update);
  return [sel, ms];
}

let dragFrom = -1;

function renderEntries() {
  const list = $("s-list");
  list.replaceChildren(...entries.map((entry, i) => {
    const li = el("li", { draggable: "true", "data-song": entry.song },
      el("span", { class: "handle", text: "≡", "aria-hidden": "true" }),
      el("span", { class: "name", text: `${i + 1}. ${entry.song}` }),
      ...transitionPicker(entry),
      el("button", { text: "▲", title: "up", class: "up", on: { click: () => move(i, i - 1) } }),
      el("button", { text: "▼", title: "down", class: "down", on: { click: () => move(i, i + 1) } }),
      el("button", { text: "✕", title: "remove", class: "remove",
                     on: { click: () => { entries.splice(i, 1); renderEntries(); } } }));
    li.addEventListener("dragstart", (ev) => {
      dragFrom = i;
      li.classList.add("dragging");
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", String(i));
    });
    li.addEventListener("dragend", () => li.classList.remove("dragging"));
    li.addEventListener("dragover", (ev) => { ev.preventDefault(); li.classList.add("over"); });
    li.addEventListener("dragleave", () => li.classList.remove("over"));
    li.addEventListener("drop", (ev) => { ev.preventDefault(); move(dragFrom, i); });
    return li;
  }));
}

function renderPick() {
  $("s-pick").replaceChildren(...songs.map((s) =>
    el("li", { "data-song": s.name },
      el("span", { class: "name", text: s.title && s.title !== s.name ? `${s.name} · ${s.title}` : s.name }),
      el("button", { text: "+ add", class: "add", disabled: s.problem ? "" : null,
                     on: { click: () => { entries.push({ song: s.name, transition: "stop" });
                                          renderEntries(); } } }))));
}

$("s-save").addEventListener("click", async () => {
  const name = $("s-name").value.trim();
  if (!name) { msg("Give the setlist a name first.", true); $("s-name").focus(); return; }
  if (!entries.length) { msg("Add songs from the library first.", true); return; }
  const body = { name, songs: entries.map((e) => e.song),
                 transitions: entries.map((e) => e.transition) };
  let r;
  try { r = await api("PUT", `/api/setlists/${encodeURIComponent(name)}`, body); } catch (e) { return; }
  if (r.ok) { msg(`Saved ${name}.`); await loadSetlists(); $("s-open").value = name; }
  else msg((r.data && r.data.error) || `not saved: HTTP ${r.status}`, true);
});

$("s-load").addEventListener("click", async () => {
  const name = $("s-name").value.trim();
  if (!name) { msg("Open or save a setlist first.", true); return; }
  let r;
  try { r = await api("POST", `/api/setlists/${encodeURIComponent(name)}/load`); } catch (e) { return; }
  if (r.ok) msg(`${name} is loaded on the box.`);
  else msg((r.data && r.data.error) || `not loaded: HTTP ${r.status}`, true);
});

// --- Library -------------------------------------------------------------------------
function renderSongs() {
  $("l-songs").replaceChildren(...songs.map((s) => {
    if (s.problem) {
      return el("tr", { "data-song": s.name }, el("td", { text: s.name }),
        el("td", { class: "problem", colspan: "5", text: s.problem }), deleteCell(s.name));
    }
    const loud = s.loudness ? `${s.loudness.lufs.toFixed(1)} LUFS (${db(s.loudness.gain_db)} dB)` : "—";
    return el("tr", { "data-song": s.name },
      el("td", { text: s.title && s.title !== s.name ? `${s.title} (${s.name})` : s.name }),
      el("td", { class: "num", text: clock(s.seconds) }),
      el("td", { class: "num", text: s.bpm ? String(Math.round(s.bpm * 10) / 10) : "—" }),
      el("td", { text: s.key || "—" }),
      el("td", { class: "num", text: loud }),
      el("td", { class: "num", text: String(s.stems) }),
      deleteCell(s.name));
  }));
}

// Delete asks once more in place (no dialog over the stage), then moves it to the trash.
function deleteCell(name) {
  const td = el("td");
  const ask = el("button", { text: "Delete", class: "danger delete" });
  const sure = el("button", { text: `Move ${name} to the trash`, class: "danger confirm", hidden: "" });
  const no = el("button", { text: "Keep", class: "keep", hidden: "" });
  const toggle = (asking) => { ask.hidden = asking; sure.hidden = !asking; no.hidden = !asking; };
  ask.addEventListener("click", () => toggle(true));
  no.addEventListener("click", () => toggle(false));
  sure.addEventListener("click", async () => {
    let r;
    try { r = await api("DELETE", `/api/songs/${encodeURIComponent(name)}`); } catch (e) { return; }
    if (!r.ok) toast((r.data && r.data.error) || `${name}: not deleted (HTTP ${r.status})`);
    loadSongs();
  });
  td.append(ask, sure, no);
  return td;
}

async function loadTakes() {
  let r;
  try { r = await api("GET", "/api/takes"); } catch (e) { return; }
  if (!r.ok) return;
  $("l-takes").replaceChildren(...r.data.map((t) =>
    el("li", { "data-take": t.name },
      el("span", { class: "name", text: `${t.name}${t.song ? " · " + t.song : ""}` }),
      el("span", { class: "dim", text: `${t.date || ""} ${clock(t.seconds)}` }),
      ...t.files.map((f) => el("a", { text: f, download: f,
        href: `/api/takes/${encodeURIComponent(t.name)}/${encodeURIComponent(f)}` })))));
}

function uploadStatus(text, progress, bad = false) {
  $("u-status").hidden = false;
  $("u-msg").textContent = text;
  $("u-msg").classList.toggle("bad", bad);
  $("u-bar").value = progress;
}

$("u-file").addEventListener("change", () => {
  const f = $("u-file").files[0];
  if (f && !$("u-name").value) $("u-name").value = f.name.replace(/\.zip$/i, "");
});

// The zip goes up with XMLHttpRequest (fetch has no upload progress), then the import's
// own progress is polled until it is done or failed.
$("u-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const file = $("u-file").files[0];
  const name = $("u-name").value.trim();
  if (!file) { uploadStatus("Pick a zip first.", 0, true); return; }
  const query = new URLSearchParams({ name: name || file.name.replace(/\.zip$/i, "") });
  if ($("u-bpm").value) query.set("bpm", $("u-bpm").value);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/api/upload?${query}`);
  xhr.setRequestHeader("Content-Type", "application/zip");
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) uploadStatus(`uploading ${Math.round(100 * e.loaded / e.total)}%`, 0.5 * e.loaded / e.total);
  };
  xhr.onerror = () => uploadStatus("The upload broke off: try again.", 0, true);
  xhr.onload = () => {
    let data = null;
    try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
    if (xhr.status === 401) { showPairing(""); return; }
    if (xhr.status !== 202 || !data || !data.job) {
      uploadStatus((data && data.error) || `refused: HTTP ${xhr.status}`, 0, true);
      return;
    }
    pollJob(data.job);
  };
  $("u-go").disabled = true;
  xhr.onloadend = () => { $("u-go").disabled = false; };
  uploadStatus("uploading 0%", 0);
  xhr.send(file);
});

async function pollJob(job) {
  let r;
  try { r = await api("GET", `/api/upload/${encodeURIComponent(job)}`); } catch (e) { return; }
  const j = r.data || {};
  if (!r.ok) { uploadStatus(j.error || `HTTP ${r.status}`, 0, true); return; }
  if (j.state === "running") {
    uploadStatus(`importing ${Math.round(100 * (j.progress || 0))}%${j.message ? ": " + j.message : ""}`,
                 0.5 + 0.5 * (j.progress || 0));
    setTimeout(() => pollJob(job), 500);
    return;
  }
  if (j.state === "done") uploadStatus(`${j.song} is in the library.${j.message ? " " + j.message : ""}`, 1);
  else uploadStatus(j.message || "the import failed", 0, true);
  $("u-form").reset();
  loadSongs();
}

// --- Mixer ---------------------------------------------------------------------------
// A level: − and + nudge by 1 dB (NudgeGain, as an encoder detent does); the slider sets it.
function level(value, set, nudge) {
  const out = el("span", { class: "db", text: db(value) });
  const range = el("input", { type: "range", min: "-60", max: "12", step: "0.5",
                              value: String(value == null ? 0 : value), "aria-label": "level" });
  range.addEventListener("input", () => { out.textContent = db(Number(range.value)); });
  range.addEventListener("change", () => set(Number(range.value)));
  return el("div", { class: "level" },
    el("button", { text: "−", class: "minus", on: { click: () => nudge(-1) } }), range,
    el("button", { text: "+", class: "plus", on: { click: () => nudge(1) } }), out);
}

function renderMixer(s) {
  if ($("view-mixer").hidden && $("m-stems").children.length) return;
  if (document.activeElement && document.activeElement.type === "range"
      && $("view-mixer").contains(document.activeElement)) return;   // being moved
  const outputs = Object.keys(s.output_gain_db || {});
  const key = JSON.stringify([s.output_gain_db, s.mix]);
  if ($("m-stems").dataset.key === key) return;
  $("m-stems").dataset.key = key;
  $("m-outputs").replaceChildren(...outputs.map((o) =>
    el("div", { class: "strip", "data-output": o }, el("div", { class: "title", text: o }),
      level(s.output_gain_db[o],
            (v) => command("SetOutputGain", { output: o, db: v }),
            (d) => command("NudgeOutputGain", { output: o, db: d })))));
  // a column per output some stem has its own level in (sends)
  const sent = outputs.filter((o) => (s.mix || []).some((m) => m.sends && o in m.sends));
  $("m-head").replaceChildren(el("tr", {}, el("th", { text: "stem" }), el("th", { text: "mute" }),
    el("th", { text: "level" }), ...sent.map((o) => el("th", { text: `in ${o}` }))));
  const stems = [...(s.mix || [])].sort((a, b) => (b.name === "click") - (a.name === "click"));
  $("m-stems").replaceChildren(...stems.map((m) => {
    const sends = m.sends || {};
    return el("tr", { "data-stem": m.name, class: m.name === "click" ? "click" : "" },
      el("td", { text: m.name === "click" ? "click level" : m.name }),
      el("td", {}, el("button", { text: m.muted ? "muted" : "mute", class: `mute${m.muted ? " on" : ""}`,
                                  on: { click: () => command("Mute", { stem: m.name, on: !m.muted }) } })),
      el("td", {}, level(m.gain_db,
                         (v) => command("SetGain", { stem: m.name, db: v }),
                         (d) => command("NudgeGain", { stem: m.name, db: d }))),
      ...sent.map((o) => el("td", {}, o in sends
        ? level(sends[o],
                (v) => command("SetGain", { stem: m.name, db: v, output: o }),
                (d) => command("NudgeGain", { stem: m.name, db: d, output: o }))
        : el("span", { class: "dim", text: "—" }))));
  }));
}

start();
