// First render and click times of the browser report in headless chromium (Debian's /usr/bin/chromium), driven by the
// Playwright driver the .NET tests already ship (PLAYWRIGHT_PACKAGE: its .playwright/package folder).
//   node bench/serve-timing.js URL [URL…]      prints one JSON line per URL
// first_render_ms: navigation start until the top table has rows and the status line is empty (every view drawn);
// click_ms: a click on the first top-table row until its callers are shown; annotate_ms: "show" disassembly until
// its rows are drawn, both timed in the page from the click event to the next painted frame; window_ms: a window brushed
// over 10-40 % of the timeline until every view shows it, window2_ms: then one over 50-70 %. Each is wall time, as a user waits for it.
"use strict";
const { chromium } = require(process.env.PLAYWRIGHT_PACKAGE);

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  for (const url of process.argv.slice(2)) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const settled = () => page.waitForFunction(() => document.getElementById("status").textContent === "", null, { timeout: 600000 });
    let t = Date.now();
    await page.goto(url, { timeout: 600000 });
    await page.waitForSelector("#top tbody tr, #diff tbody tr", { timeout: 600000 });
    await settled();
    const first = Date.now() - t;
    // A click and the disassembly, timed inside the page: from the click event until the view is drawn (the status line
    // empty again), then one frame painted. Playwright's own round trips (actionability checks, polling) are not a
    // user's wait, and they added 150-250 ms here.
    const timed = (selector, drawn) => page.evaluate(async ([selector, drawn]) => {
      const t = performance.now();
      document.querySelector(selector).click();
      await new Promise((res) => {
        const iv = setInterval(() => {
          if (document.getElementById("status").textContent === "" && document.querySelector(drawn)) { clearInterval(iv); res(); }
        }, 1);
      });
      await new Promise((res) => requestAnimationFrame(() => res()));
      return Math.round(performance.now() - t);
    }, [selector, drawn]);
    const click = await timed("#top tbody tr[data-fn]:not([data-fn='']), #diff tbody tr[data-fn]:not([data-fn=''])", "#fn-pane:not([hidden]) #callers tbody tr");
    const annotate = await timed("#annotate-load", "#annotate tbody tr, #annotate-note:not(:empty)");
    const name = await page.textContent("#fn-title");
    // A brushed window, 10 % to 40 % of the timeline: from the mouse-down until every view shows the window.
    const brush = (from, to) => page.evaluate(async ([from, to]) => {
      const svg = document.getElementById("timeline"), r = svg.getBoundingClientRect(), y = r.top + r.height / 2;
      const label = document.getElementById("window-label").textContent;
      const t = performance.now();
      svg.dispatchEvent(new MouseEvent("mousedown", { clientX: r.left + r.width * from, clientY: y, bubbles: true }));
      window.dispatchEvent(new MouseEvent("mouseup", { clientX: r.left + r.width * to, clientY: y, bubbles: true }));
      await new Promise((res) => {
        const iv = setInterval(() => {
          const now = document.getElementById("window-label").textContent;
          if (document.getElementById("status").textContent === "" && now.startsWith("window") && now !== label) { clearInterval(iv); res(); }
        }, 1);
      });
      await new Promise((res) => requestAnimationFrame(() => res()));
      return Math.round(performance.now() - t);
    }, [from, to]);
    const window_ms = await brush(0.1, 0.4);
    const windowTotal = await page.textContent("#total");
    const window2_ms = await brush(0.5, 0.7);
    console.log(JSON.stringify({ url: url.replace(/token=[0-9a-f]+/, "token=…"), first_render_ms: first, click_ms: click, annotate_ms: annotate, window_ms, window2_ms, window_total: windowTotal, function: name }));
    await page.close();
  }
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
