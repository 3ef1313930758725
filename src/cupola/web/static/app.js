// cupola's page: one time, the view rendered at it, the map and the answer's words.
// Everything comes from this server's /api (the same serialiser as `cupola where --json`).
"use strict";

const UI = {
  en: {subtitle: "the view from the International Space Station", language: "Language", time: "Time (UTC)",
       datetime: "Date and time (UTC)", now: "Now", play: "Play", pause: "Pause", orbit: "Across the orbit (min)",
       view: "The view", lens: "Lens (mm)", look: "Direction", exposure: "Exposure (s)", iso: "ISO",
       tracked: "tracked (sidereal)", map: "Map", inview: "In view", k_track: "ground track",
       k_foot: "horizon circle", k_night: "night side", k_oval: "auroral oval", rendering: "rendering…",
       footer: "Computed locally by cupola: element sets, places and sky from bundled data; nothing leaves this server.",
       elements: "Element sets", use: "Use these", forget: "Back to the bundled ISS history",
       paste: "Paste a TLE (two or three lines) or OMM (JSON, XML, CSV) for this browser only:",
       bundled: "bundled", session: "pasted", clip: "Timelapse of these two minutes (GIF)", frames: "frames",
       photo: "Explain a photograph", annotating: "annotating…",
       drop: "Drop a photograph taken from the ISS here, or press Enter to choose one (JPEG, PNG or TIFF, up to 25 MB)."},
  fr: {subtitle: "la vue depuis la Station spatiale internationale", language: "Langue", time: "Heure (UTC)",
       datetime: "Date et heure (UTC)", now: "Maintenant", play: "Lecture", pause: "Pause",
       orbit: "Le long de l’orbite (min)", view: "La vue", lens: "Objectif (mm)", look: "Direction",
       exposure: "Pose (s)", iso: "ISO", tracked: "suivi sidéral", map: "Carte", inview: "En vue",
       k_track: "trace au sol", k_foot: "cercle d’horizon", k_night: "côté nuit", k_oval: "ovale auroral",
       rendering: "rendu en cours…",
       footer: "Calculé sur place par cupola : éléments orbitaux, lieux et ciel des données fournies ; rien ne quitte ce serveur.",
       elements: "Éléments orbitaux", use: "Utiliser", forget: "Revenir à l’historique fourni de l’ISS",
       paste: "Coller un TLE (deux ou trois lignes) ou un OMM (JSON, XML, CSV), pour ce navigateur seulement :",
       bundled: "fournis", session: "collés", clip: "Timelapse de ces deux minutes (GIF)", frames: "images",
       photo: "Expliquer une photo", annotating: "analyse en cours…",
       drop: "Déposez ici une photo prise depuis l’ISS, ou appuyez sur Entrée pour en choisir une (JPEG, PNG ou TIFF, 25 Mo au plus)."},
};

const $ = (id) => document.getElementById(id);
const state = {base: Date.parse("2024-01-19T16:02:54Z"), offsetMin: 0, lang: "en", timer: null, seq: 0,
               renderBusy: false, renderWanted: null, trackKey: null};
let map, layers = {};

function iso(ms) { return new Date(Math.round(ms / 1000) * 1000).toISOString().replace(".000Z", "Z"); }
function now() { return state.base + state.offsetMin * 60000; }

function renderSize() {
  const w = Math.min($("view").clientWidth || 960, 1280);
  return w >= 900 ? [1280, 720] : w >= 600 ? [960, 540] : [640, 360];
}

function cameraParams() {
  const [w, h] = renderSize();
  return new URLSearchParams({lens: $("lens").value, look: $("look").value, exposure: $("exposure").value,
                              iso: $("iso").value, tracked: $("tracked").checked, w: w, h: h,
                              camera: $("camera").dataset.model || "D5", lang: state.lang, format: "jpeg"});
}

function status(text, isError) {
  const s = $("status");
  s.textContent = text || "";
  s.className = isError ? "error" : "";
}

async function getJSON(url) {
  const r = await fetch(url, {credentials: "same-origin"});
  const body = await r.json();
  if (!r.ok) { throw new Error(body.detail || r.statusText); }
  return body;
}

function showWhere(a) {
  $("caption").textContent = a.caption;
  const dl = $("lines");
  dl.replaceChildren();
  for (const [label, text] of a.in_view_lines) {
    const dt = document.createElement("dt"); dt.textContent = label;
    const dd = document.createElement("dd"); dd.textContent = text;
    dl.append(dt, dd);
  }
  const ul = $("warnings");
  ul.replaceChildren();
  for (const w of a.warnings) { const li = document.createElement("li"); li.textContent = w.message; ul.append(li); }
}

function requestRender(t) {
  state.renderWanted = t;
  if (state.renderBusy) { return; }
  const want = state.renderWanted;
  state.renderWanted = null;
  state.renderBusy = true;
  const q = cameraParams(); q.set("t", want);
  const img = $("render");
  const done = () => {
    state.renderBusy = false;
    img.setAttribute("aria-busy", "false");
    if (state.renderWanted) { requestRender(state.renderWanted); }
  };
  img.setAttribute("aria-busy", "true");
  img.onload = () => { img.dataset.t = want; done(); };
  img.onerror = async () => {
    try { await getJSON("/api/render?" + q); } catch (e) { status(e.message, true); }
    done();
  };
  img.src = "/api/render?" + q;
}

function drawTrack(gj) {
  for (const k of Object.keys(layers)) { layers[k].remove(); }
  layers = {};
  const by = (kind) => ({type: "FeatureCollection", features: gj.features.filter((f) => f.properties.kind === kind)});
  layers.night = L.geoJSON(by("night"), {style: {className: "night", stroke: false, fillOpacity: 0.35}}).addTo(map);
  layers.oval = L.geoJSON(by("aurora_oval"), {style: {className: "oval", weight: 1.5}}).addTo(map);
  layers.track = L.geoJSON(by("ground_track"), {style: {className: "track", weight: 2}}).addTo(map);
  layers.foot = L.geoJSON(by("footprint"), {style: {className: "foot", weight: 1.5}}).addTo(map);
  layers.station = L.geoJSON(by("station"), {pointToLayer: (_f, ll) => L.circleMarker(ll,
    {radius: 6, className: "station"})}).addTo(map);
  $("map").dataset.trackPoints = by("ground_track").features[0].properties.points;
}

async function update() {
  const seq = ++state.seq;
  const t = iso(now());
  $("when").value = t.slice(0, 19);
  const m = state.offsetMin;
  $("slider-out").textContent = (m >= 0 ? "+" : "−") + Math.abs(m) + " min";
  status("");
  requestRender(t);
  try {
    const a = await getJSON(`/api/where?t=${t}&lang=${state.lang}&lines=true`);
    if (seq === state.seq) { showWhere(a); }
    const gj = await getJSON(`/api/track?t=${t}`);
    if (seq === state.seq) { drawTrack(gj); }
  } catch (e) {
    if (seq === state.seq) { $("caption").textContent = ""; status(e.message, true); }
  }
}

let pending = null;
function soon() { clearTimeout(pending); pending = setTimeout(update, 120); }

function setLang(lang) {
  state.lang = lang;
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const text = UI[lang][el.dataset.i18n];
    if (text) { el.textContent = text; }
  }
  $("play").textContent = UI[lang][state.timer ? "pause" : "play"];
  loadPresets();
}

async function loadPresets() {
  const presets = await getJSON(`/api/presets?lang=${state.lang}`);
  const box = $("presets");
  box.replaceChildren();
  for (const p of presets) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = p.title; b.dataset.preset = p.id;
    b.addEventListener("click", () => applyPreset(p));
    box.append(b);
  }
}

function ensureOption(select, value) {
  if (![...select.options].some((o) => o.value === String(value))) {
    const o = document.createElement("option"); o.value = o.textContent = String(value); select.append(o);
  }
  select.value = String(value);
}

function applyPreset(p) {
  $("lens").value = p.lens;
  ensureOption($("look"), p.look);
  ensureOption($("exposure"), p.exposure);
  ensureOption($("iso"), Math.round(p.iso));
  $("tracked").checked = p.tracked;
  $("camera").dataset.model = p.camera;
  state.base = Date.parse(p.t); state.offsetMin = 0; $("slider").value = 0;
  update();
}

function togglePlay() {
  if (state.timer) {
    clearInterval(state.timer); state.timer = null;
  } else {
    state.timer = setInterval(() => {
      state.offsetMin = Math.min(46, state.offsetMin + 0.5);
      $("slider").value = state.offsetMin;
      if (state.offsetMin >= 46) { togglePlay(); }
      update();
    }, 1500);
  }
  $("play").setAttribute("aria-pressed", state.timer ? "true" : "false");
  $("play").textContent = UI[state.lang][state.timer ? "pause" : "play"];
}

async function showElements(e) {
  const a = e || await getJSON("/api/elements");
  const L = UI[state.lang];
  $("elements-now").textContent = `${a.satellite} (NORAD ${a.norad_id}), ${a.sets} × ${L[a.source || "session"]}: `
    + `${a.first_epoch_utc.slice(0, 19)}Z … ${a.last_epoch_utc.slice(0, 19)}Z`;
}

async function useElements() {
  const r = await fetch("/api/elements", {method: "POST", credentials: "same-origin",
                                          headers: {"Content-Type": "text/plain"}, body: $("elements-text").value});
  const body = await r.json();
  if (!r.ok) { status(body.detail, true); return; }
  await showElements({...body, source: "session"});
  update();
}

async function forgetElements() {
  await fetch("/api/elements", {method: "DELETE", credentials: "same-origin"});
  await showElements();
  update();
}

async function makeClip() {
  const st = $("clip-status"), img = $("clip-img");
  const t = now();
  const q = cameraParams();
  q.delete("format"); q.set("w", 480); q.set("h", 270); q.set("step", "4s"); q.set("fps", 8);
  q.set("from", iso(t - 60000)); q.set("to", iso(t + 60000));
  img.hidden = true; st.className = "";
  try {
    const r = await fetch("/api/timelapse?" + q, {method: "POST", credentials: "same-origin"});
    let job = await r.json();
    if (!r.ok) { throw new Error(job.detail || r.statusText); }
    while (job.status === "queued" || job.status === "running") {
      st.textContent = `${job.done_frames}/${job.frames} ${UI[state.lang].frames}`;
      await new Promise((ok) => setTimeout(ok, 700));
      job = await getJSON(job.status_url);
    }
    if (job.status !== "done") { throw new Error(job.detail || job.status); }
    st.textContent = `${job.frames}/${job.frames} ${UI[state.lang].frames}`;
    img.onload = () => { img.hidden = false; };
    img.src = job.result_url;
  } catch (e) {
    st.textContent = e.message; st.className = "error";
  }
}

async function annotatePhoto(file) {
  const st = $("photo-status");
  st.className = ""; st.textContent = `${file.name}: ${UI[state.lang].annotating}`;
  $("report").textContent = ""; $("overlay").hidden = true;
  const q = new URLSearchParams({lang: state.lang, name: file.name});
  try {
    const r = await fetch("/api/annotate?" + q, {method: "POST", credentials: "same-origin", body: file,
                                                headers: {"Content-Type": file.type || "application/octet-stream"}});
    const a = await r.json();
    if (!r.ok) { throw new Error(a.detail || r.statusText); }
    st.textContent = a.caption || "";
    $("report").textContent = a.text;
    if (a.overlay_url) { $("overlay").src = a.overlay_url; $("overlay").hidden = false; }
  } catch (e) {
    st.textContent = e.message; st.className = "error";
  }
}

function setupDrop() {
  const drop = $("drop"), input = $("photo-file");
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
  });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    if (e.dataTransfer.files.length) { annotatePhoto(e.dataTransfer.files[0]); }
  });
  input.addEventListener("change", () => { if (input.files.length) { annotatePhoto(input.files[0]); } });
}

async function init() {
  map = L.map("map", {worldCopyJump: false, minZoom: 0, maxZoom: 6, zoomSnap: 0.25,
                      maxBounds: [[-90, -200], [90, 200]], attributionControl: true});
  map.fitBounds([[-62, -180], [78, 180]]);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Natural Earth (world-atlas)");
  const world = await (await fetch("/static/vendor/countries-110m.geojson")).json();
  L.geoJSON(world, {style: {className: "land", weight: 0.5, fillOpacity: 1}, interactive: false}).addTo(map);
  $("lang").addEventListener("change", (e) => { setLang(e.target.value); update(); });
  $("now").addEventListener("click", () => { state.base = Date.now(); state.offsetMin = 0; $("slider").value = 0; update(); });
  $("play").addEventListener("click", togglePlay);
  $("slider").addEventListener("input", (e) => { state.offsetMin = Number(e.target.value); soon(); });
  $("when").addEventListener("change", (e) => {
    const ms = Date.parse(e.target.value + "Z");
    if (!Number.isNaN(ms)) { state.base = ms; state.offsetMin = 0; $("slider").value = 0; update(); }
  });
  $("camera").addEventListener("change", () => requestRender(iso(now())));
  $("camera").addEventListener("submit", (e) => e.preventDefault());
  $("elements-use").addEventListener("click", useElements);
  setupDrop();
  $("clip").addEventListener("click", makeClip);
  $("elements-forget").addEventListener("click", forgetElements);
  showElements();
  setLang("en");
  const presets = await getJSON("/api/presets?lang=en");
  applyPreset(presets[0]);
}

document.addEventListener("DOMContentLoaded", init);
