// First render and click times of the browser report in headless chromium (Debian's /usr/bin/chromium), driven by the
// Playwright driver the .NET tests already ship (PLAYWRIGHT_PACKAGE: its .playwright/package folder).
//   node bench/serve-timing.js URL [URL…]      prints one JSON line per URL
// first_render_ms: navigation start until the top table has rows and the status line is empty (every view drawn);
// click_ms: a click on the first top-table row until its callers are shown; annotate_ms: "show" disassembly until
// its rows are drawn. Each is wall time in the page, as a user waits for it.
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
    t = Date.now();
    await page.click("#top tbody tr[data-fn]:not([data-fn='']), #diff tbody tr[data-fn]:not([data-fn=''])");
    await page.waitForSelector("#fn-pane:not([hidden]) #callers tbody tr", { timeout: 600000 });
    await settled();
    const click = Date.now() - t;
    t = Date.now();
    await page.click("#annotate-load");
    await page.waitForSelector("#annotate tbody tr, #annotate-note:not(:empty)", { timeout: 600000 });
    await settled();
    const annotate = Date.now() - t;
    const name = await page.textContent("#fn-title");
    console.log(JSON.stringify({ url: url.replace(/token=[0-9a-f]+/, "token=…"), first_render_ms: first, click_ms: click, annotate_ms: annotate, function: name }));
    await page.close();
  }
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
