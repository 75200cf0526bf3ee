// XenProf's browser report: one page of linked views over the JSON answers of `xenoprof serve` (/api/*). All view
// state is in the URL's hash, so a link shows the same views.
"use strict";

const KIND_COLOURS = {
  hypervisor: [200, 60, 60], kernel: [230, 140, 40], user: [235, 200, 70], jit: [90, 180, 90],
  guest: [150, 100, 200], process: [170, 170, 180], unknown: [190, 190, 190],
};
const SERIES_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#aec7e8", "#888"];
const $ = (id) => document.getElementById(id);

// ---- state in the hash ----
const DEFAULTS = { ev: "0", by: "symbol", sort: "self", asc: "", q: "", fn: "", from: "", to: "", tl: "domain", mode: "flame", zoom: "", search: "", asm: "" };
function readState() {
  const p = new URLSearchParams(location.hash.slice(1));
  const s = {};
  for (const k in DEFAULTS) s[k] = p.get(k) ?? DEFAULTS[k];
  return s;
}
let state = readState();
function setState(change) {
  state = { ...state, ...change };
  const p = new URLSearchParams();
  for (const k in DEFAULTS) if (state[k] !== DEFAULTS[k]) p.set(k, state[k]);
  const hash = "#" + p.toString();
  if (location.hash !== hash) history.replaceState(null, "", hash === "#" ? location.pathname + location.search : hash);
  render();
}
window.addEventListener("hashchange", () => { state = readState(); render(); });

// ---- data ----
// Served, the views come from /api/*. In the offline file (`flame --format html`) they were computed in advance and
// embedded in the #xenprof-data block: one answer per view, keyed "EVENT:BY" (top, timeline), "EVENT:FN" (callgraph,
// annotate) or "EVENT:" (summary, flame). A time window is a run of whole timeline buckets: the window blocks hold each
// bucket's samples per row, node and arc of those answers, and the page sums them (windowed, below).
// Each block is gzip-compressed JSON in base64 (OfflineReport.DataType), inflated here without the network.
async function inflateBytes(block) {
  const bin = atob(block.textContent.trim());
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
}
async function inflate(block) { return JSON.parse(new TextDecoder().decode(await inflateBytes(block))); }
const OFFLINE = !!document.getElementById("xenprof-data");
const EMBEDDED = OFFLINE ? inflate(document.getElementById("xenprof-data")) : null;
const DIFF_WINDOW = "time windows are not available in a differential report: it compares the whole sessions";
// The disassembly of each function, and the time-window data, sit in blocks of their own (data-view, data-key) after
// this script, parsed when first shown: the page draws before the parser has read them.
const parsed = new Promise((res) => (document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", res) : res()));
let lazyBlocks = null;
function lazyElement(id) { // once `parsed`
  if (!lazyBlocks) {
    lazyBlocks = new Map();
    for (const e of document.querySelectorAll("script[data-view]")) lazyBlocks.set(e.dataset.view + "\n" + e.dataset.key, e);
  }
  return lazyBlocks.get(id);
}
async function embedded(name, params) {
  if (params.from !== undefined || params.to !== undefined) return windowed(name, params);
  return embeddedAnswer(name, params);
}
async function embeddedAnswer(name, params) {
  const data = await EMBEDDED;
  const key = params.event + ":" + (params.by ?? params.fn ?? "");
  let v = (data.views[name] || {})[key];
  const block = v === undefined && (await parsed, lazyElement(name + "\n" + key));
  if (block) v = (data.views[name] ||= {})[key] = await inflate(block);
  if (v !== undefined) return v;
  if (params.fn !== undefined) {
    throw new Error(`not embedded in the offline file: it holds the call graph and disassembly of the ${data.maxFunctions} functions ` +
      "with the most samples; xenoprof serve shows every function");
  }
  throw new Error(`${name}: not embedded in the offline file`);
}
// The window series (OfflineReport.SeriesType, /api/window). A series is a run of (bucket, a, b) triples, written as
// its triple count, then its triples as LEB128 varints, the bucket as the step from the previous one.
// LEB128 varints of `bytes` from `at`, one per call.
function varints(bytes, at) {
  let i = at;
  return () => { let v = 0, m = 1, b; do { b = bytes[i++]; v += (b & 0x7f) * m; m *= 128; } while (b & 0x80); return v; };
}
// `count` series read with `varint` into one array, with each series' first triple; `bound` (the bytes left) bounds
// the number of values, each at least a byte.
function readSeries(varint, count, bound) {
  const vals = new Float64Array(Math.max(0, bound)), starts = new Int32Array(count + 1);
  let k = 0;
  for (let s = 0; s < count; s++) {
    starts[s] = k / 3;
    let bucket = 0;
    for (let n = varint(); n > 0; n--) { bucket += varint(); vals[k++] = bucket; vals[k++] = varint(); vals[k++] = varint(); }
  }
  starts[count] = k / 3;
  return { vals: vals.subarray(0, k), starts };
}
// The window block of an event: its header (bucket width and count, what the series are), the total of each bucket,
// the series, and where each answer's series begin.
function readWindow(bytes) {
  const length = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  const varint = varints(bytes, 4 + length), totals = [];
  for (let b = 0; b < h.buckets; b++) totals.push(varint());
  let next = 0;
  const top = {};
  for (const by in h.top) { top[by] = next; next += h.top[by]; }
  const flame = next;
  next += h.flame;
  const callgraph = {};
  for (const [fn, callers, callees] of h.callgraph) { callgraph[fn] = { node: next, callers: next + 1, callees: next + 1 + callers }; next += 1 + callers + callees; }
  return { bucketNs: h.bucketNs, buckets: h.buckets, totals, series: readSeries(varint, next, bytes.length - 4 - length), top, flame, callgraph };
}
const inflated = new Map();
function lazyBlock(view, key, read) {
  const id = view + "\n" + key;
  if (!inflated.has(id)) inflated.set(id, parsed.then(() => { const block = lazyElement(id); return block ? read(block) : null; }));
  return inflated.get(id);
}
// Series s's sums over buckets [b0, b1).
function sumSeries(series, s, b0, b1) {
  let a = 0, b = 0;
  const v = series.vals;
  for (let t = series.starts[s], end = series.starts[s + 1]; t < end; t++) {
    const bucket = v[3 * t];
    if (bucket >= b0 && bucket < b1) { a += v[3 * t + 1]; b += v[3 * t + 2]; }
  }
  return [a, b];
}
// Percentage of the total and its binomial standard error in points (Profile.Share).
function share(part, total) {
  if (total <= 0) return [0, 0];
  const p = part / total;
  return [100 * p, 100 * Math.sqrt(p * (1 - p) / total)];
}
const ordinal = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
const NOT_IN_WINDOW = (fn) => `fn=${fn.length > 40 ? fn.slice(0, 40) + "…" : fn}: no such function in the selected samples`;
// The window series of an event: the offline file's block, or served, /api/window (gzip-compressed; null when the
// server has none, e.g. in a differential report, and then the server answers each window itself).
const windowSources = new Map();
function servedSeries(key, make) {
  if (!windowSources.has(key)) windowSources.set(key, make().catch(() => null));
  return windowSources.get(key);
}
function windowData(event) {
  if (OFFLINE) return lazyBlock("window", event + ":", async (block) => readWindow(await inflateBytes(block)));
  return servedSeries(event + ":", () => fetchSeries({ event }).then((bytes) => bytes && readWindow(bytes)));
}
// /api/window's answer, inflated; null when the server has none.
async function fetchSeries(params) {
  const q = new URLSearchParams(params);
  if (token) q.set("token", token);
  const r = await fetch("api/window?" + q.toString(), { credentials: "same-origin" });
  if (!r.ok) return null;
  return new Uint8Array(await new Response(r.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
}
// Served, the whole session's answers the window sums apply to, kept until the session changes.
const wholeAnswers = new Map();
function wholeAnswer(name, params) {
  const key = name + "?" + new URLSearchParams(params).toString();
  if (!wholeAnswers.has(key)) wholeAnswers.set(key, fetchApi(name, params).catch((e) => { wholeAnswers.delete(key); throw e; }));
  return wholeAnswers.get(key);
}
// The answer the server gives for a window, from the whole session's answer and the window series' sums: a window
// [from, to) covers the buckets it touches (the page snaps a brushed one to them). Served, the call graph of a function
// outside those the series cover is asked of the server for the window.
async function windowed(name, params) {
  const whole = { event: params.event };
  if (params.by !== undefined) whole.by = params.by;
  if (params.fn !== undefined) whole.fn = params.fn;
  const win = await windowData(params.event);
  if (!OFFLINE && (!win || (name === "callgraph" && !win.callgraph[params.fn]))) return fetchApi(name, params);
  if (!win) throw new Error("time windows are not in this offline file");
  const wholeOf = OFFLINE ? embeddedAnswer : wholeAnswer;
  const b0 = Math.min(win.buckets, Math.max(0, Math.floor((+params.from || 0) / win.bucketNs)));
  const b1 = params.to !== undefined ? Math.max(b0, Math.min(win.buckets, Math.ceil(+params.to / win.bucketNs))) : win.buckets;
  let total = 0;
  for (let b = b0; b < b1; b++) total += win.totals[b];
  const answer = await wholeOf(name, whole);
  if (name === "summary") {
    const events = answer.events.map((e, i) => (i === answer.event ? { ...e, total } : e));
    return { ...answer, events, fromNs: b0 * win.bucketNs, toNs: b1 * win.bucketNs };
  }
  if (name === "top") {
    const first = win.top[params.by], rows = [];
    answer.rows.forEach((r, i) => {
      const [self, inclusive] = sumSeries(win.series, first + i, b0, b1);
      const all = Math.max(self, inclusive);
      // As the server lists them: rows with self samples, and functions that only call (symbol rows) with a total.
      if (self === 0 && (params.by !== "symbol" || all === 0)) return;
      const [selfPct, selfErr] = share(self, total), [totalPct, totalErr] = share(all, total);
      rows.push({ ...r, self, selfPct, selfErr, total: all, totalPct, totalErr });
    });
    rows.sort((x, y) => y.self - x.self || ordinal(x.image, y.image) || ordinal(x.name, y.name));
    return { by: answer.by, total, rows };
  }
  if (name === "flame") {
    // Each node's own samples and those of its pruned children; a node's total adds its children's (parents come first).
    const n = answer.nodes.length, own = new Array(n), all = new Array(n);
    for (let i = 0; i < n; i++) { const [self, rest] = sumSeries(win.series, win.flame + i, b0, b1); own[i] = self; all[i] = self + rest; }
    for (let i = n - 1; i > 0; i--) all[answer.nodes[i][1]] += all[i];
    const kids = answer.nodes.map(() => []);
    for (let i = 1; i < n; i++) if (all[i] > 0) kids[answer.nodes[i][1]].push(i);
    const nameOf = (i) => answer.frames[answer.nodes[i][0]][0];
    const nodes = [], pending = [[0, -1]];
    while (pending.length) {
      const [i, parent] = pending.pop();
      const at = nodes.length;
      nodes.push([answer.nodes[i][0], parent, all[i], own[i]]);
      const k = kids[i].sort((x, y) => all[y] - all[x] || ordinal(nameOf(x), nameOf(y)) || x - y);
      for (let c = k.length - 1; c >= 0; c--) pending.push([k[c], at]);
    }
    return { total: all[0] || 0, frames: answer.frames, nodes };
  }
  if (name === "callgraph") {
    const g = win.callgraph[params.fn];
    const [inclusive, self] = sumSeries(win.series, g.node, b0, b1);
    if (inclusive === 0) throw new Error(NOT_IN_WINDOW(params.fn));
    const arcs = (list, first) => list.map((a, i) => { const samples = sumSeries(win.series, first + i, b0, b1)[0]; return { ...a, samples, pct: share(samples, total)[0] }; })
      .filter((a) => a.samples > 0).sort((x, y) => y.samples - x.samples || ordinal(x.image, y.image) || ordinal(x.name, y.name));
    return { ...answer, inclusive, self, total, callers: arcs(answer.callers, g.callers), callees: arcs(answer.callees, g.callees) };
  }
  if (name === "annotate") {
    const top = await wholeOf("top", { event: params.event, by: "symbol" });
    const row = top.rows.findIndex((r) => r.fn === params.fn);
    const self = row < 0 ? 0 : sumSeries(win.series, win.top.symbol + row, b0, b1)[0];
    if (self === 0) throw new Error(NOT_IN_WINDOW(params.fn));
    const read = (bytes) => readSeries(varints(bytes, 0), answer.instructions.length, bytes.length);
    const series = OFFLINE ? await lazyBlock("annotate-window", params.event + ":" + params.fn, async (block) => read(await inflateBytes(block)))
      : await servedSeries(params.event + ":" + params.fn, () => fetchSeries({ event: params.event, fn: params.fn }).then((bytes) => bytes && read(bytes)));
    const instructions = answer.instructions.map((ins, i) => {
      const [samples, adjusted] = series ? sumSeries(series, i, b0, b1) : [0, 0];
      return { ...ins, samples, adjusted };
    });
    return { ...answer, samples: self, total, instructions };
  }
  throw new Error(`${name}: not embedded in the offline file`);
}
const token = new URLSearchParams(location.search).get("token");
const WINDOWED = new Set(["summary", "top", "flame", "callgraph", "annotate"]);
async function api(name, params) {
  if (OFFLINE) return embedded(name, params);
  if (!WINDOWED.has(name)) return fetchApi(name, params);
  // The whole session's answers are kept: a window is computed from them.
  return params.from !== undefined || params.to !== undefined ? windowed(name, params) : wholeAnswer(name, params);
}
async function fetchApi(name, params) {
  const q = new URLSearchParams(params);
  if (token) q.set("token", token);
  const r = await fetch("api/" + name + "?" + q.toString(), { credentials: "same-origin" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}
function selection() {
  const p = { event: state.ev };
  if (state.from !== "") p.from = state.from;
  if (state.to !== "") p.to = state.to;
  return p;
}

// ---- formatting ----
const fmtPct = (v) => v.toFixed(2);
function fmtNs(ns) { return ns >= 1e9 ? (ns / 1e9).toFixed(3) + " s" : (ns / 1e6).toFixed(1) + " ms"; }
function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
function colour(kind, name) {
  const base = KIND_COLOURS[kind] || KIND_COLOURS.unknown;
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  const d = (Math.abs(h) % 40) - 20;
  return `rgb(${Math.min(255, base[0] + d)},${Math.min(255, base[1] + d)},${Math.min(255, base[2] + d / 2)})`;
}
// A differential flame graph's fill, as FlameGraph's flamegraph.pl colours one: red for growth, blue for shrink, by the
// frame's own change scaled by the largest |change| of any stack, white for none.
function diffColour(delta, max) {
  const m = Math.max(1, max || 1);
  if (delta > 0) { const g = Math.floor(210 * (m - delta) / m); return `rgb(255,${g},${g})`; }
  if (delta < 0) { const b = Math.floor(210 * (m + delta) / m); return `rgb(${b},${b},255)`; }
  return "rgb(255,255,255)";
}
function regex(text) { try { return text ? new RegExp(text, "i") : null; } catch (e) { return e; } }

// ---- rendering ----
let cache = { key: "", summary: null, top: null, flame: null };
let renderSeq = 0;
let flameWidth = 1000;
async function render() {
  const seq = ++renderSeq;
  // Read before this render changes the page: read after, it would lay the new tables out at once (30 ms).
  flameWidth = $("flame").clientWidth || flameWidth;
  const key = JSON.stringify(selection());
  try {
    $("status").textContent = "loading…";
    if (cache.key !== key || !cache.summary) {
      cache = { key, summary: await api("summary", selection()), top: {}, flame: null };
    }
    if (seq !== renderSeq) return;
    renderHeader(cache.summary);
    await renderTimeline();
    if (cache.summary.diff) {
      // A differential report (serve { BASE } { NEW }): opreport { BASE } { NEW }'s table, per symbol or image.
      const by = state.by === "image" ? "image" : "symbol";
      if (!cache.top["diff:" + by]) cache.top["diff:" + by] = await api("diff", { ...selection(), by });
      renderDiff(cache.top["diff:" + by]);
    } else {
      if (!cache.top[state.by]) cache.top[state.by] = await api("top", { ...selection(), by: state.by });
      renderTop(cache.top[state.by]);
    }
    if (!cache.flame) cache.flame = expandFlame(await api("flame", selection()));
    renderFlame(cache.flame);
    await renderFunction();
    if (seq === renderSeq) $("status").textContent = "";
  } catch (e) {
    $("status").textContent = "error: " + e.message;
  }
}

function renderHeader(s) {
  const sel = $("event");
  if (sel.options.length !== s.events.length) {
    sel.innerHTML = s.events.map((e, i) => `<option value="${i}">${esc(e.name)} (count ${e.count} ${esc(e.unit)})</option>`).join("");
  }
  sel.value = state.ev;
  const ev = s.events[s.event];
  const facts = [`<b id="total">${ev ? ev.total : 0}</b> samples`];
  for (const k of ["hostname", "kernel", "cpu"]) if (s.meta[k]) facts.push(esc(k + " " + s.meta[k]));
  if (!s.hasStacks) facts.push("no callchains: record with --callgraph for the call graph");
  if (s.diff) {
    facts.push(`differential: base ${esc(s.diff.base)} (<b id="base-total">${s.diff.baseTotal}</b> samples), new ${esc(s.diff.new)}; ` +
      `* = significant at ${s.diff.alpha} (Holm); call graph and disassembly are the new profile's`);
    $("timeline-hint").textContent = DIFF_WINDOW;
  }
  document.body.classList.toggle("diff", !!s.diff);
  $("top").hidden = !!s.diff;
  $("diff").hidden = !s.diff;
  for (const o of $("top-by").options) o.disabled = !!s.diff && o.value !== "symbol" && o.value !== "image";
  $("facts").innerHTML = facts.join("; ");
  const windowed = s.fromNs != null || s.toNs != null;
  $("window-label").textContent = windowed ? `window ${fmtNs(s.fromNs || 0)} – ${s.toNs != null ? fmtNs(s.toNs) : "end"} of ${fmtNs(s.durationNs)}`
    : `whole session (${fmtNs(s.durationNs)})`;
  $("window-reset").hidden = !windowed;
  document.body.dataset.generation = s.generation;
}

// Timeline: stacked bars per bucket; dragging selects [from, to).
let timeline = null, timelineDrawn = null;
async function renderTimeline() {
  $("tl-by").value = state.tl;
  const tlKey = state.ev + ":" + state.tl;
  if (!cache.timeline || cache.timeline.key !== tlKey) cache.timeline = { key: tlKey, answer: await api("timeline", { event: state.ev, by: state.tl, buckets: 200 }) };
  // Drawn already with this answer: only the brushed window may have moved.
  const svg = $("timeline");
  if (timelineDrawn === cache.timeline.answer) { drawBrush(svg); return; }
  timelineDrawn = timeline = cache.timeline.answer;
  const n = timeline.series.length ? timeline.series[0].counts.length : 0;
  const sums = new Array(n).fill(0);
  timeline.series.forEach((s) => s.counts.forEach((c, i) => (sums[i] += c)));
  const max = Math.max(1, ...sums);
  const w = 1000 / Math.max(1, n);
  let out = "";
  const base = new Array(n).fill(0);
  timeline.series.forEach((s, si) => {
    const col = SERIES_COLOURS[si % SERIES_COLOURS.length];
    s.counts.forEach((c, i) => {
      if (!c) return;
      const h = (c / max) * 116;
      out += `<rect x="${(i * w).toFixed(2)}" y="${(120 - base[i] - h).toFixed(2)}" width="${(w + 0.2).toFixed(2)}" height="${h.toFixed(2)}" fill="${col}"/>`;
      base[i] += h;
    });
  });
  svg.innerHTML = out;
  drawBrush(svg);
  $("timeline-legend").innerHTML = timeline.series.map((s, si) =>
    `<span><i style="background:${SERIES_COLOURS[si % SERIES_COLOURS.length]}"></i>${esc(s.name)} (${s.counts.reduce((a, b) => a + b, 0)})</span>`).join("");
}
// The brushed window over the bars, or none.
function drawBrush(svg) {
  const n = timeline.series.length ? timeline.series[0].counts.length : 0, span = n * timeline.bucketNs;
  let rect = svg.querySelector("#brush");
  if (state.from === "" && state.to === "") { if (rect) rect.remove(); return; }
  if (!rect) {
    rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    rect.id = "brush";
    for (const [k, v] of [["y", "0"], ["height", "120"], ["fill", "rgba(0,90,255,.15)"], ["stroke", "#05f"]]) rect.setAttribute(k, v);
    svg.appendChild(rect);
  }
  const x0 = ((+state.from || 0) / span) * 1000, x1 = state.to !== "" ? (+state.to / span) * 1000 : 1000;
  rect.setAttribute("x", String(x0));
  rect.setAttribute("width", String(Math.max(1, x1 - x0)));
}
(function brush() {
  const svg = $("timeline");
  let start = null;
  const ns = (ev) => {
    const r = svg.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
    const n = timeline && timeline.series.length ? timeline.series[0].counts.length : 0;
    return Math.round(f * n * (timeline ? timeline.bucketNs : 0));
  };
  svg.addEventListener("mousedown", (ev) => { start = ns(ev); ev.preventDefault(); });
  window.addEventListener("mouseup", (ev) => {
    if (start == null) return;
    const end = ns(ev);
    const a = Math.min(start, end), b = Math.max(start, end);
    start = null;
    if (b - a < 1) return;
    if (cache.summary && cache.summary.diff) { $("status").textContent = DIFF_WINDOW; return; }
    // The window becomes the buckets it touches: the page answers whole buckets from the window series at once.
    const w = timeline.bucketNs, n = timeline.series.length ? timeline.series[0].counts.length : 0;
    setState({ from: String(Math.floor(a / w) * w), to: String(Math.min(n * w, Math.max(Math.floor(a / w) + 1, Math.ceil(b / w)) * w)), zoom: "" });
  });
})();

// Rows drawn in the top table: 100 at first (a 500-row table took 170 ms to lay out), 500 more per "show more".
let topDrawn = null, topLimit = 100;
function renderTop(top) {
  // Drawn already with this answer, filter, order and selection: nothing to redo.
  const drawn = { top, q: state.q, sort: state.sort, asc: state.asc, fn: state.fn };
  const table = $("top");
  if (topDrawn && ["top", "q", "sort", "asc"].every((k) => topDrawn[k] === drawn[k])) {
    // The same rows: only the selected one may have changed.
    if (topDrawn.fn !== drawn.fn) for (const tr of table.tBodies[0].rows) tr.classList.toggle("selected", !!tr.dataset.fn && tr.dataset.fn === state.fn);
    topDrawn = drawn;
    return;
  }
  topDrawn = drawn;
  const rx = regex(state.q);
  $("filter-error").textContent = rx instanceof Error ? "bad regex" : "";
  $("filter").value = state.q;
  $("top-by").value = state.by;
  let rows = top.rows.filter((r) => !rx || rx instanceof Error || rx.test(r.name) || rx.test(r.image));
  const col = state.sort, asc = state.asc === "1";
  rows = rows.slice().sort((a, b) => {
    const x = a[col], y = b[col];
    const c = typeof x === "string" ? (x < y ? -1 : x > y ? 1 : 0) : x - y; // code-unit order, as opreport sorts names
    return asc ? c : -c;
  });
  for (const th of table.tHead.rows[0].cells) {
    th.classList.toggle("sorted", th.dataset.col === col);
    th.classList.toggle("asc", th.dataset.col === col && asc);
  }
  const scale = Math.max(1e-9, ...rows.map((r) => r.selfPct + r.selfErr));
  const shown = rows.slice(0, topLimit);
  table.tBodies[0].innerHTML = shown.map((r) =>
    `<tr data-fn="${r.fn ? esc(r.fn) : ""}" class="${r.fn && r.fn === state.fn ? "selected" : ""}">` +
    `<td class="self">${r.self}</td><td>${fmtPct(r.selfPct)}</td><td>${fmtPct(r.selfErr)}</td>` +
    `<td class="total">${r.total}</td><td>${fmtPct(r.totalPct)}</td><td>${fmtPct(r.totalErr)}</td>` +
    `<td class="bar"><div class="barbox" title="${fmtPct(r.selfPct)} ± ${fmtPct(r.selfErr)} %"><div class="v" style="width:${(100 * r.selfPct / scale).toFixed(2)}%"></div>` +
    `<div class="e" style="left:${(100 * Math.max(0, r.selfPct - r.selfErr) / scale).toFixed(2)}%;width:${(100 * 2 * r.selfErr / scale).toFixed(2)}%"></div></div></td>` +
    `<td class="image">${esc(r.image)}</td><td class="name" title="${esc(r.name)}">${esc(r.name)}</td></tr>`).join("");
  const hidden = rows.length - shown.length;
  $("top-more").innerHTML = `${rows.length} rows, ${top.total} samples` + (hidden > 0
    ? `; ${hidden} not shown <button id="top-more-rows" type="button">show ${Math.min(500, hidden)} more</button> or filter to narrow` : "");
}
// The differential table: base and new samples and shares, the change in percentage points, the p-value of the
// two-proportion z-test and the mark of the rows Holm's procedure rejects (opreport { BASE } { NEW }'s columns).
// Rows come largest change first; a click on a header sorts by it.
const fmtP = (p) => p === 0 ? "0" : p < 1e-4 ? p.toExponential(3) : String(+p.toPrecision(4));
function renderDiff(d) {
  const table = $("diff");
  const rx = regex(state.q);
  $("filter-error").textContent = rx instanceof Error ? "bad regex" : "";
  $("filter").value = state.q;
  $("top-by").value = d.by;
  let rows = d.rows.filter((r) => !rx || rx instanceof Error || rx.test(r.name) || rx.test(r.image));
  const col = state.sort, asc = state.asc === "1";
  if (rows.length && col in rows[0]) {
    rows = rows.slice().sort((a, b) => {
      const x = a[col], y = b[col];
      const c = typeof x === "string" ? (x < y ? -1 : x > y ? 1 : 0) : (+x) - (+y);
      return asc ? c : -c;
    });
  }
  for (const th of table.tHead.rows[0].cells) {
    th.classList.toggle("sorted", th.dataset.col === col);
    th.classList.toggle("asc", th.dataset.col === col && asc);
  }
  const shown = rows.slice(0, 500);
  table.tBodies[0].innerHTML = shown.map((r) => {
    const change = r.significant ? (r.deltaPp > 0 ? " grew" : " shrank") : "";
    return `<tr data-fn="${r.fn ? esc(r.fn) : ""}" class="${r.fn && r.fn === state.fn ? "selected" : ""}${change}">` +
      `<td class="base">${r.baseSamples}</td><td>${fmtPct(r.basePct)}</td><td class="new">${r.newSamples}</td><td>${fmtPct(r.newPct)}</td>` +
      `<td class="delta">${r.deltaPp > 0 ? "+" : ""}${r.deltaPp.toFixed(2)}</td><td class="p">${fmtP(r.pValue)}</td><td class="mark">${r.significant ? "*" : ""}</td>` +
      `<td class="image">${esc(r.image)}</td><td class="name" title="${esc(r.name)}">${esc(r.name)}</td></tr>`;
  }).join("");
  const marked = d.rows.filter((r) => r.significant).length;
  $("top-more").textContent = (rows.length > shown.length ? `${rows.length - shown.length} more rows not shown (filter to narrow); ` : `${rows.length} rows; `) +
    `${marked} significant; base ${d.baseTotal} samples, new ${d.newTotal}`;
}
for (const id of ["top", "diff"]) {
  $(id).tHead.addEventListener("click", (ev) => {
    const col = ev.target.dataset && ev.target.dataset.col;
    if (!col) return;
    setState(state.sort === col ? { asc: state.asc === "1" ? "" : "1" } : { sort: col, asc: col === "name" || col === "image" ? "1" : "" });
  });
  $(id).tBodies[0].addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr");
    if (tr && tr.dataset.fn) setState({ fn: tr.dataset.fn, asm: "" });
  });
}
$("top-more").addEventListener("click", (ev) => {
  if (ev.target.id !== "top-more-rows") return;
  topLimit += 500;
  topDrawn = null;
  render();
});
$("filter").addEventListener("input", (ev) => setState({ q: ev.target.value }));
$("top-by").addEventListener("change", (ev) => setState({ by: ev.target.value }));
$("event").addEventListener("change", (ev) => setState({ ev: ev.target.value, zoom: "" }));
$("tl-by").addEventListener("change", (ev) => setState({ tl: ev.target.value }));
$("window-reset").addEventListener("click", () => setState({ from: "", to: "", zoom: "" }));

// Flame graph / icicle: absolutely positioned divs; zoom is the path of frame names from the root.
// /api/flame's compact answer (frames named once, nodes as [frame, parent, total, self, delta?]) as node objects.
function expandFlame(f) {
  const nodes = f.nodes.map(([frame, parent, total, self, delta]) => {
    const [name, kind, fn] = f.frames[frame];
    const n = { name, kind, fn, parent, total, self };
    if (delta !== undefined) n.delta = delta;
    return n;
  });
  return { total: f.total, maxDelta: f.maxDelta, nodes };
}
// A flame's children lists, made once per answer (a big session's tree has 100 k nodes).
const flameChildren = new WeakMap();
function childrenOf(flame) {
  let children = flameChildren.get(flame);
  if (!children) {
    children = flame.nodes.map(() => []);
    flame.nodes.forEach((n, i) => { if (n.parent >= 0) children[n.parent].push(i); });
    flameChildren.set(flame, children);
  }
  return children;
}
// The node's path: the frame names from the root, joined by ";" (the zoom state).
function flamePath(nodes, i) {
  const names = [];
  for (let a = i; a >= 0; a = nodes[a].parent) names.push(nodes[a].name);
  return names.reverse().join(";");
}
// The node whose path is `path`, found by walking down from the root; -1 when there is none.
function findPath(nodes, children, path) {
  if (!nodes.length || nodes[0].name !== path.slice(0, nodes[0].name.length)) return -1;
  let i = 0, prefix = nodes[0].name;
  while (prefix.length < path.length) {
    const next = children[i].find((c) => {
      const p = prefix + ";" + nodes[c].name;
      return path.startsWith(p) && (path.length === p.length || path[p.length] === ";");
    });
    if (next === undefined) return -1;
    i = next;
    prefix += ";" + nodes[i].name;
  }
  return prefix === path ? i : -1;
}
let flameDrawn = null;
function renderFlame(flame) {
  // Drawn already with the same answer and view state (a click elsewhere, a new selected function): nothing to redo.
  const drawn = { flame, zoom: state.zoom, mode: state.mode, search: state.search };
  if (flameDrawn && Object.keys(drawn).every((k) => flameDrawn[k] === drawn[k])) return;
  flameDrawn = drawn;
  const nodes = flame.nodes;
  const children = childrenOf(flame);
  let zoom = nodes.length ? 0 : -1;
  if (state.zoom) { const z = findPath(nodes, children, state.zoom); if (z >= 0) zoom = z; }
  $("flame-mode").value = state.mode;
  $("search").value = state.search;
  $("unzoom").hidden = zoom <= 0;
  const host = $("flame");
  if (zoom < 0) { host.innerHTML = "<p>no samples</p>"; return; }
  const rx = regex(state.search);
  const total = nodes[zoom].total || 1;
  const ancestors = new Set();
  for (let a = nodes[zoom].parent; a >= 0; a = nodes[a].parent) ancestors.add(a);
  const items = [];
  let maxDepth = 0;
  const ancestorList = [...ancestors].reverse();
  ancestorList.forEach((a, d) => items.push({ i: a, x: 0, w: 1, d, dim: true }));
  const baseDepth = ancestorList.length;
  // Frames under a pixel wide are not drawn (their parent's width holds them).
  const minWidth = 1 / Math.max(1, flameWidth);
  (function walk(i, x, d) {
    const w = nodes[i].total / total;
    if (w < minWidth) return;
    items.push({ i, x, w, d });
    maxDepth = Math.max(maxDepth, d);
    let cx = x;
    for (const c of children[i]) { walk(c, cx, d + 1); cx += nodes[c].total / total; }
  })(zoom, 0, baseDepth);
  const rowH = 16, height = (maxDepth + 1) * rowH;
  host.style.height = height + "px";
  let matched = 0;
  const matchedSet = new Set();
  if (rx && !(rx instanceof Error)) {
    (function mark(i, under) {
      const m = rx.test(nodes[i].name);
      if (m) matchedSet.add(i);
      if (m && !under) matched += nodes[i].total;
      for (const c of children[i]) mark(c, under || m);
    })(zoom, false);
  }
  host.innerHTML = items.map((it) => {
    const n = nodes[it.i];
    const top = state.mode === "icicle" ? it.d * rowH : height - (it.d + 1) * rowH;
    const cls = "f" + (it.dim ? " dim" : "") + (matchedSet.has(it.i) ? " match" : "");
    const diff = n.delta !== undefined;
    const fill = diff ? diffColour(n.delta, flame.maxDelta) : colour(n.kind, n.name);
    const change = diff ? `; ${n.delta > 0 ? "+" : ""}${n.delta} own samples against the base (${n.delta > 0 ? "+" : ""}${fmtPct(100 * n.delta / (flame.total || 1))} %)` : "";
    return `<div class="${cls}" data-i="${it.i}"${diff ? ` data-delta="${n.delta}"` : ""} style="left:${(it.x * 100).toFixed(4)}%;width:${(it.w * 100).toFixed(4)}%;top:${top}px;background:${fill}"` +
      ` title="${esc(n.name)} (${n.kind}): ${n.total} samples, ${fmtPct(100 * n.total / (flame.total || 1))} %${change}">${esc(n.name)}</div>`;
  }).join("");
  $("match").textContent = rx && !(rx instanceof Error) ? `matched ${fmtPct(100 * matched / total)} %` : rx instanceof Error ? "bad regex" : "";
  host.onclick = (ev) => {
    const el = ev.target.closest(".f");
    if (!el) return;
    const i = +el.dataset.i;
    const change = { zoom: i === 0 ? "" : flamePath(nodes, i) };
    if (nodes[i].fn) { change.fn = nodes[i].fn; change.asm = ""; }
    setState(change);
  };
  host.onmousemove = (ev) => {
    const el = ev.target.closest(".f");
    $("flame-info").textContent = el ? el.title : "";
  };
}
$("flame-mode").addEventListener("change", (ev) => setState({ mode: ev.target.value }));
$("search").addEventListener("input", (ev) => setState({ search: ev.target.value }));
$("unzoom").addEventListener("click", () => setState({ zoom: "" }));

// The selected function: callers and callees (opreport -c) and its annotated disassembly (opannotate).
async function renderFunction() {
  const pane = $("fn-pane");
  if (!state.fn) { pane.hidden = true; return; }
  pane.hidden = false;
  let g;
  try { g = await api("callgraph", { ...selection(), fn: state.fn }); }
  catch (e) { $("fn-title").textContent = state.fn; $("fn-facts").textContent = e.message; clearArcs(); return; }
  $("fn-title").textContent = `${g.name} (${g.image})`;
  $("fn-facts").innerHTML = `inclusive <b id="fn-inclusive">${g.inclusive}</b> samples (${fmtPct(100 * g.inclusive / (g.total || 1))} %), ` +
    `self <b id="fn-self">${g.self}</b> (${fmtPct(100 * g.self / (g.total || 1))} %)`;
  const arcs = (list) => list.map((a) => `<tr data-fn="${esc(a.fn)}"><td class="samples">${a.samples}</td><td>${fmtPct(a.pct)}</td>` +
    `<td class="image">${esc(a.image)}</td><td class="name">${esc(a.name)}</td></tr>`).join("");
  $("callers").tBodies[0].innerHTML = arcs(g.callers);
  $("callees").tBodies[0].innerHTML = arcs(g.callees);
  $("annotate").hidden = state.asm !== "1";
  if (state.asm === "1") await renderAnnotation(); else { $("annotate").tBodies[0].innerHTML = ""; $("annotate-note").textContent = ""; }
}
function clearArcs() { for (const id of ["callers", "callees", "annotate"]) $(id).tBodies[0].innerHTML = ""; }
for (const id of ["callers", "callees"]) {
  $(id).tBodies[0].addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr");
    if (tr && tr.dataset.fn) setState({ fn: tr.dataset.fn, asm: "" });
  });
}
$("annotate-load").addEventListener("click", () => setState({ asm: "1" }));

async function renderAnnotation() {
  let a;
  try { a = await api("annotate", { ...selection(), fn: state.fn }); }
  catch (e) { $("annotate-note").textContent = e.message; $("annotate").tBodies[0].innerHTML = ""; return; }
  const notes = [`${a.name} at 0x${a.start}, ${a.size} bytes, ${a.samples} samples`];
  if (a.problem) notes.push(a.problem);
  if (a.sourceNote) notes.push(a.sourceNote);
  $("annotate-note").textContent = notes.join("; ");
  let last = "", out = "";
  const max = Math.max(1, ...a.instructions.map((i) => i.samples));
  for (const ins of a.instructions) {
    if (ins.file && ins.file + ":" + ins.line !== last) {
      last = ins.file + ":" + ins.line;
      out += `<tr class="src"><td colspan="3"></td><td>${esc(last)}${ins.source != null ? "  " + esc(ins.source) : ""}</td></tr>`;
    }
    const hot = ins.samples > 0 && ins.samples >= max / 4 ? " hot" : "";
    out += `<tr class="ins${hot}" data-address="${ins.address}"><td class="samples">${ins.samples || ""}</td>` +
      `<td>${ins.samples ? fmtPct(100 * ins.samples / (a.total || 1)) : ""}</td><td class="adjusted">${ins.adjusted || ""}</td><td>${esc(ins.text.join("\n"))}</td></tr>`;
  }
  $("annotate").tBodies[0].innerHTML = out;
}

// Served, a daemon may still be writing the session: look for a new generation every few seconds and redraw.
if (OFFLINE) {
  document.body.classList.add("offline");
} else setInterval(async () => {
  try {
    const s = await fetchApi("summary", { event: state.ev }); // not the kept answer: it asks whether the session changed
    if (cache.summary && s.generation !== cache.summary.generation) { cache.key = ""; wholeAnswers.clear(); windowSources.clear(); render(); }
  } catch (e) { /* the next render reports errors */ }
}, 5000);
render();
