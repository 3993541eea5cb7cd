// Drives the page of `tutti serve` in headless Chromium (puppeteer-core): upload a file, wait for
// the result, read the bars, the timeline and the cursor from the DOM, save a screenshot.
//   node page_check.mjs <puppeteer-core dir> <chromium> <url> <audio file> <screenshot.png>
// Prints one JSON object on stdout.
const [pptrDir, chromium, url, audio, shot] = process.argv.slice(2);
const puppeteer = (await import(`${pptrDir}/lib/esm/puppeteer/puppeteer-core.js`)).default;
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
});
const out = {errors: []};
try {
  const page = await browser.newPage();
  await page.setViewport({width: 1100, height: 800});
  page.on('pageerror', (e) => out.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
  // The media element aborts its own partial reads of the blob as it seeks: not an error.
  page.on('requestfailed', (r) => {
    const why = r.failure() ? r.failure().errorText : '';
    if (!(r.url().startsWith('blob:') && why === 'net::ERR_ABORTED'))
      out.errors.push(`request failed: ${r.url()} ${why}`);
  });
  await page.goto(url, {waitUntil: 'networkidle0'});
  await page.waitForFunction(() => !document.getElementById('model').textContent.startsWith('loading'));
  out.model = await page.$eval('#model', (e) => e.textContent);
  const input = await page.$('#file');
  await input.uploadFile(audio);
  await page.waitForFunction(() => !document.getElementById('result').hidden, {timeout: 30000});
  Object.assign(out, await page.evaluate(() => {
    const rows = [...document.querySelectorAll('.bar-row')];
    const lanes = [...document.querySelectorAll('.lane')];
    return {
      title: document.getElementById('title').textContent,
      status: document.getElementById('status').textContent,
      bars: rows.map((r) => ({instrument: r.dataset.instrument,
                              probability: Number(r.dataset.probability),
                              present: r.classList.contains('present'),
                              width: r.querySelector('.bar-fill').getBoundingClientRect().width,
                              track: r.querySelector('.bar-track').getBoundingClientRect().width})),
      lanes: lanes.map((l) => ({instrument: l.dataset.instrument,
                                cells: l.querySelectorAll('.cell').length,
                                segments: [...l.querySelectorAll('.segment')].map(
                                    (s) => [Number(s.dataset.start), Number(s.dataset.end)])})),
      timelineWidth: document.getElementById('timeline').getBoundingClientRect().width,
      audioSrc: document.getElementById('player').src,
    };
  }));
  // Seeking the player moves the cursor over the timeline.
  await page.evaluate(() => new Promise((resolve) => {
    const p = document.getElementById('player');
    const seek = () => { p.addEventListener('seeked', () => resolve(), {once: true}); p.currentTime = 5; };
    if (p.readyState >= 1) seek(); else p.addEventListener('loadedmetadata', seek, {once: true});
  }));
  out.cursor = await page.evaluate(() => {
    const c = document.getElementById('cursor').getBoundingClientRect();
    const t = document.getElementById('timeline').getBoundingClientRect();
    return {time: Number(document.getElementById('cursor').dataset.time),
            fraction: (c.left - t.left) / t.width};
  });
  await page.screenshot({path: shot, fullPage: true});
} catch (e) {
  out.errors.push(`driver: ${e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
