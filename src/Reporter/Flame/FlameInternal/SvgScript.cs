namespace XenProf.Reporter.Flame.FlameInternal;

/// <summary>
/// The inline style and script that make the SVG interactive on its own (no network): hover details, click to
/// zoom, Reset Zoom, Search (button, Ctrl-F) with a matched percentage. The script reads everything it needs from
/// the document: the frame name and count from each <c>&lt;title&gt;</c>, geometry from each <c>&lt;rect&gt;</c>, and
/// layout constants from the <c>data-*</c> attributes of <c>#frames</c>.
/// </summary>
internal static class SvgScript
{
    public const string Style = """
text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: 12px; fill: rgb(0,0,0); }
#title { text-anchor: middle; font-size: 17px; }
#subtitle { text-anchor: middle; fill: rgb(100,100,100); }
#search, #unzoom { cursor: pointer; }
#search { opacity: 0.5; }
#search:hover, #search.active { opacity: 1; }
#frames .frame { cursor: pointer; }
#frames .frame:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }
#frames .frame text { pointer-events: none; }
.hide { display: none; }
.parent { opacity: 0.5; }
""";

    // Written for this project. Plain ES5-compatible code; no "]]>" may appear (it sits in a CDATA section).
    public const string Script = """
(function () {
  "use strict";
  var framesEl = document.getElementById("frames");
  var details = document.getElementById("details");
  var unzoomEl = document.getElementById("unzoom");
  var searchEl = document.getElementById("search");
  var matchedEl = document.getElementById("matched");
  if (!framesEl) { return; }
  var xpad = +framesEl.getAttribute("data-xpad");
  var fullWidth = +framesEl.getAttribute("data-width") - 2 * xpad;
  var rowHeight = +framesEl.getAttribute("data-row-height");
  var rootY = +framesEl.getAttribute("data-root-y");
  var inverted = framesEl.getAttribute("data-inverted") === "true";
  var fontSize = +framesEl.getAttribute("data-font-size");
  var fontWidth = +framesEl.getAttribute("data-font-width");
  var labelPad = +framesEl.getAttribute("data-label-pad");
  var highlight = "rgb(230,0,230)";
  var eps = 0.015;
  var frames = null;
  var zoomed = null;

  function setText(el, s) { if (el) { el.textContent = s; } }

  function load() {
    if (frames) { return frames; }
    frames = [];
    var groups = framesEl.getElementsByTagName("g");
    for (var i = 0; i < groups.length; i++) {
      var g = groups[i];
      var rect = g.getElementsByTagName("rect")[0];
      var title = g.getElementsByTagName("title")[0];
      var label = g.getElementsByTagName("text")[0];
      if (!rect || !title) { continue; }
      var t = title.textContent;
      var cut = t.lastIndexOf(" (");
      var y = +rect.getAttribute("y");
      var f = {
        g: g, rect: rect, label: label,
        name: cut >= 0 ? t.substring(0, cut) : t,
        count: cut >= 0 ? +t.substring(cut + 2).split(" ")[0].replace(/,/g, "") : 0,
        x: +rect.getAttribute("x"), w: +rect.getAttribute("width"),
        depth: Math.round((inverted ? y - rootY : rootY - y) / rowHeight),
        fill: rect.getAttribute("fill")
      };
      g.flameIndex = frames.length;
      frames.push(f);
    }
    return frames;
  }

  function fit(name, width) {
    var n = Math.floor((width - 2 * labelPad) / (fontSize * fontWidth));
    if (n < 3) { return ""; }
    if (name.length <= n) { return name; }
    return name.substring(0, n - 2) + "..";
  }

  function place(f, x, w) {
    f.rect.setAttribute("x", x.toFixed(2));
    f.rect.setAttribute("width", w.toFixed(2));
    if (f.label) {
      f.label.setAttribute("x", (x + labelPad).toFixed(2));
      f.label.textContent = fit(f.name, w);
    }
  }

  function frameOf(target) {
    while (target && target !== framesEl) {
      if (target.flameIndex !== undefined || (target.getAttribute && target.getAttribute("class") &&
          /(^| )frame( |$)/.test(target.getAttribute("class")))) { return target; }
      target = target.parentNode;
    }
    return null;
  }

  function contains(outer, inner) {
    return outer.x <= inner.x + eps && outer.x + outer.w >= inner.x + inner.w - eps;
  }

  function zoom(f) {
    if (f.depth === 0) { unzoom(); return; }
    var all = load();
    var scale = fullWidth / f.w;
    for (var i = 0; i < all.length; i++) {
      var o = all[i];
      var cls = o.g.classList;
      if (o === f || (o.depth > f.depth && contains(f, o))) {
        cls.remove("hide"); cls.remove("parent");
        place(o, xpad + (o.x - f.x) * scale, o.w * scale);
      } else if (o.depth < f.depth && contains(o, f)) {
        cls.remove("hide"); cls.add("parent");
        place(o, xpad, fullWidth);
      } else {
        cls.add("hide"); cls.remove("parent");
      }
    }
    zoomed = f;
    unzoomEl.classList.remove("hide");
  }

  function unzoom() {
    if (!frames) { return; }
    for (var i = 0; i < frames.length; i++) {
      var o = frames[i];
      o.g.classList.remove("hide"); o.g.classList.remove("parent");
      place(o, o.x, o.w);
    }
    zoomed = null;
    unzoomEl.classList.add("hide");
  }

  function parsePattern(input) {
    var m = /^\/(.*)\/([gimsuy]*)$/.exec(input);
    return m ? new RegExp(m[1], m[2].replace("g", "")) : new RegExp(input);
  }

  function clearSearch() {
    if (frames) {
      for (var i = 0; i < frames.length; i++) { frames[i].rect.setAttribute("fill", frames[i].fill); }
    }
    searchEl.classList.remove("active");
    setText(searchEl, "Search");
    setText(matchedEl, " ");
  }

  // Highlights frames whose name matches; returns the matched share of all samples in percent, where a match
  // nested inside another match is not counted twice.
  function search(re) {
    var all = load();
    var hits = [];
    var rootCount = 0;
    for (var i = 0; i < all.length; i++) {
      var f = all[i];
      if (f.depth === 0) { rootCount = f.count; }
      if (f.depth > 0 && re.test(f.name)) {
        f.rect.setAttribute("fill", highlight);
        hits.push(f);
      } else {
        f.rect.setAttribute("fill", f.fill);
      }
    }
    hits.sort(function (a, b) { return a.x - b.x || a.depth - b.depth; });
    var sum = 0, end = -Infinity;
    for (var j = 0; j < hits.length; j++) {
      var h = hits[j];
      if (h.x >= end - eps) { sum += h.count; end = h.x + h.w; }
    }
    var pct = rootCount > 0 ? 100 * sum / rootCount : 0;
    searchEl.classList.add("active");
    setText(searchEl, "Reset Search");
    setText(matchedEl, "Matched: " + pct.toFixed(2) + "%");
    return pct;
  }

  function promptSearch() {
    var input = window.prompt("Search frames (regular expression; /pattern/i for case-insensitive):", "");
    if (input === null || input === "") { return; }
    try {
      search(parsePattern(input));
    } catch (e) {
      setText(matchedEl, "Bad pattern: " + e.message);
    }
  }

  framesEl.addEventListener("mouseover", function (e) {
    var g = frameOf(e.target);
    if (g) { setText(details, g.getElementsByTagName("title")[0].textContent); }
  });
  framesEl.addEventListener("mouseout", function () { setText(details, " "); });
  framesEl.addEventListener("click", function (e) {
    var g = frameOf(e.target);
    if (!g) { return; }
    load();
    zoom(frames[g.flameIndex]);
  });
  unzoomEl.addEventListener("click", unzoom);
  searchEl.addEventListener("click", function () {
    if (searchEl.classList.contains("active")) { clearSearch(); } else { promptSearch(); }
  });
  window.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === "f" || e.key === "F" || e.keyCode === 70)) {
      e.preventDefault();
      promptSearch();
    } else if (e.key === "Escape") {
      clearSearch();
    }
  });

  // Hooks for scripted use and tests: flame.search("regex") returns the matched percent.
  window.flame = {
    search: function (pattern) { return search(parsePattern(pattern)); },
    clearSearch: clearSearch,
    zoomTo: function (index) { zoom(load()[index]); },
    unzoom: unzoom,
    frames: function () { return load(); }
  };
})();
""";
}
