// `roadveil review` in a real browser: Debian's chromium driven by playwright-core. Covers open, navigate,
// add, resize, move over the rest of a track, delete, undo, mark reviewed, extend a track, two tabs editing
// at once (no lost change, a stale edit refused), re-rendering the saved file, and the bad inputs (a
// regions file of another video, a frame outside the video, a port in use).
// Run by ctest (tests/CMakeLists.txt) with ROADVEIL_CLI and ROADVEIL_MODELS set; bounded by its timeouts.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const CLI = process.env.ROADVEIL_CLI || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/roadveil');
const MODELS = process.env.ROADVEIL_MODELS || process.env.ROADVEIL_SHARED_MODELS || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/models');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const W = 320, H = 240, RATE = 10, FRAMES = 30;
const TRACK = 7, TRACK_BOX = [200, 40, 260, 100];

let dir, clip, regionsPath, server, url, browser;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', timeout: 120000, ...opts});
  if (r.error) throw r.error;
  return r;
}

function readRegions() { return JSON.parse(fs.readFileSync(regionsPath, 'utf8')).entries[0]; }
function regionsOn(frame) {
  const f = readRegions().frames.find((x) => x.frame === frame);
  return f ? f.regions : [];
}
async function until(predicate, what, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    try { if (predicate()) return; } catch { /* file mid-write is never seen: saves are atomic */ }
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 1.5);

function startServer(args, {expectUrl = true} = {}) {
  const child = spawn(CLI, ['review', ...args], {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']});
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`review did not start or stop: ${out} ${err}`)); }, 20000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({child, code, out, err}); });
    if (expectUrl) child.stdout.on('data', () => {
      const m = /http:\/\/\S+/.exec(out);
      if (m) { clearTimeout(timer); resolve({child, url: m[0].replace(/#.*$/, ''), out, err}); }
    });
  });
}

before(async () => {
  for (const [what, file] of [['chromium (Debian package)', CHROMIUM], ['roadveil', CLI]])
    if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file}: run scripts/setup.sh`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roadveil-review-'));
  clip = path.join(dir, 'clip.mp4');
  assert.equal(run('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${RATE}`, '-t', '3',
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-g', '10', '-bf', '2', clip]).status, 0);
  regionsPath = path.join(dir, 'regions.json');
  const a = run(CLI, ['anonymize', '-q', '--models', MODELS, 'clip.mp4', '-o', 'out.mp4', '--detections', 'regions.json'], {cwd: dir});
  assert.equal(a.status, 0, a.stderr);
  // A face track on frames 0-9, as a detector and tracker would have left it.
  const doc = JSON.parse(fs.readFileSync(regionsPath, 'utf8'));
  const e = doc.entries[0];
  assert.equal(e.frame_count, FRAMES);
  const step = e.time_base[1] / (e.time_base[0] * RATE);
  e.frames = Array.from({length: 10}, (_, i) => ({frame: i, pts: i * step, time: i / RATE,
    regions: [{class: 'face', box: TRACK_BOX, score: 0.8, source: i === 0 ? 'detector' : 'extended', track: TRACK}]}));
  // And on frame 25 a region of a class of one's own model (a manifest's "hide_as": "licence-disc").
  e.frames.push({frame: 25, pts: 25 * step, time: 25 / RATE,
    regions: [{class: 'licence-disc', box: [100, 100, 140, 120], score: 0.7, source: 'detector', track: 90}]});
  fs.writeFileSync(regionsPath, JSON.stringify(doc));
  const s = await startServer(['clip.mp4', '--regions', 'regions.json', '--port', '0', '--reviewer', 'alice']);
  server = s.child;
  url = s.url;
  browser = await chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']});
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  if (dir) fs.rmSync(dir, {recursive: true, force: true});
});

async function openTab(reviewer, frame) {
  const context = await browser.newContext({viewport: {width: 1400, height: 900}});
  await context.addInitScript((name) => localStorage.setItem('roadveil-reviewer', name), reviewer);
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(`${url}#frame=${frame}`);
  await page.waitForSelector(`#canvas[data-frame="${frame}"]`);
  return page;
}

// Frame pixels -> page pixels.
async function at(page, x, y) {
  const b = await page.locator('#canvas').boundingBox();
  return [b.x + x * b.width / W, b.y + y * b.height / H];
}
async function drag(page, from, to) {
  const [x1, y1] = await at(page, ...from);
  const [x2, y2] = await at(page, ...to);
  await page.mouse.move(x1, y1);
  await page.mouse.down();
  await page.mouse.move(x2, y2, {steps: 6});
  await page.mouse.up();
}
async function click(page, x, y) {
  const [px, py] = await at(page, x, y);
  await page.mouse.click(px, py);
}
const shown = (page, frame, regions) => page.waitForSelector(`#canvas[data-frame="${frame}"][data-regions="${regions}"]`);

test('open, navigate, add, resize, move a track, delete, undo, review, extend', {timeout: 90000}, async () => {
  const page = await openTab('alice', 0);
  await shown(page, 0, 1);
  assert.match(await page.locator('#frame-total').textContent(), /^30$/);
  // The picture is the input's frame.
  const image = await page.request.get(`${url}api/frames/0/image`);
  assert.equal(image.headers()['content-type'], 'image/jpeg');

  await page.locator('#canvas').focus();
  await page.keyboard.press('ArrowRight');
  await shown(page, 1, 1);
  await page.keyboard.press('Shift+ArrowRight');
  await shown(page, 11, 0);
  await page.keyboard.press('Shift+ArrowLeft');
  await shown(page, 1, 1);

  // Add: drag on an empty spot.
  await drag(page, [20, 150], [80, 190]);
  await shown(page, 1, 2);
  await until(() => regionsOn(1).some((r) => r.source === 'manual' && near(r.box, [20, 150, 80, 190])), 'the added box in the file');
  const added = regionsOn(1).find((r) => r.source === 'manual');
  assert.equal(added.class, 'face');
  const edits = () => readRegions().review.edits;
  assert.equal(edits().at(-1).by, 'alice');
  assert.match(edits().at(-1).at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // Resize: the new box (index 1) is selected; drag its bottom-right corner.
  await page.waitForSelector('#canvas[data-selected="1"]');
  await drag(page, [80, 190], [100, 200]);
  await until(() => regionsOn(1).some((r) => r.source === 'manual' && near(r.box, [20, 150, 100, 200])), 'the resized box');

  // Move the track's box on frame 1 and, with it, the rest of the track forward.
  await page.selectOption('#scope', 'forward');
  await drag(page, [230, 70], [240, 70]);
  await until(() => near(regionsOn(9).find((r) => r.track === TRACK).box, [210, 40, 270, 100]), 'the track moved forward');
  assert.ok(near(regionsOn(0)[0].box, TRACK_BOX), 'frame 0, before the edited frame, is unchanged');
  await page.selectOption('#scope', 'frame');

  // Delete the added box, then undo the deletion.
  await click(page, 60, 175);
  await page.keyboard.press('Delete');
  await shown(page, 1, 1);
  await until(() => !regionsOn(1).some((r) => r.track !== TRACK), 'the deletion saved');
  await page.keyboard.press('u');
  await shown(page, 1, 2);
  await until(() => regionsOn(1).some((r) => near(r.box, [20, 150, 100, 200])), 'the undo saved');
  assert.equal(edits().at(-1).op, 'undo');

  // Mark reviewed.
  await page.keyboard.press('r');
  await page.waitForSelector('#reviewed-badge.done');
  await until(() => readRegions().review.reviewed.some((m) => m.frame === 1 && m.by === 'alice'), 'the review mark');

  // Extend the track past its last frame (9) by 5 frames.
  await page.fill('#frame-input', '9');
  await page.keyboard.press('Enter');
  await shown(page, 9, 1);
  await page.fill('#extend-frames', '5');
  await click(page, 240, 70);
  await page.keyboard.press(']');
  await until(() => [10, 11, 12, 13, 14].every((f) => regionsOn(f).some((r) => r.track === TRACK)) && regionsOn(15).length === 0,
    'the track extended to frame 14');
  await page.context().close();
});

test('two tabs edit at once: no change is lost, a stale edit is refused', {timeout: 60000}, async () => {
  const tab1 = await openTab('alice', 2);
  const tab2 = await openTab('bob', 2);
  await shown(tab1, 2, 1);
  await shown(tab2, 2, 1);
  await tab1.evaluate(() => { window.roadveilReview.pollPaused = true; });
  // Tab 2 adds a plate; tab 1, which has not seen it, deletes the track's box: both land.
  await tab2.selectOption('#new-class', 'plate');
  await drag(tab2, [30, 30], [90, 50]);
  await shown(tab2, 2, 2);
  await click(tab1, 240, 70);
  await tab1.keyboard.press('Delete');
  await until(() => {
    const r = regionsOn(2);
    return r.length === 1 && r[0].class === 'plate' && r[0].source === 'manual';
  }, 'both edits in the file');
  assert.deepEqual(readRegions().review.edits.slice(-2).map((e) => e.by).sort(), ['alice', 'bob']);

  // Now both look at frame 3; tab 2 moves the box, then stale tab 1 tries to delete it: refused.
  await tab1.fill('#frame-input', '3');
  await tab1.keyboard.press('Enter');
  await tab2.fill('#frame-input', '3');
  await tab2.keyboard.press('Enter');
  await shown(tab1, 3, 1);
  await shown(tab2, 3, 1);
  await drag(tab2, [240, 70], [240, 90]);
  await until(() => near(regionsOn(3)[0].box, [210, 60, 270, 120]), 'tab 2 move saved');
  await click(tab1, 240, 50);  // where tab 1 still draws the box
  await tab1.keyboard.press('Delete');
  await tab1.waitForSelector('#status.error');
  assert.match(await tab1.locator('#status').textContent(), /changed or deleted meanwhile/);
  assert.ok(near(regionsOn(3)[0].box, [210, 60, 270, 120]), 'tab 2 change kept');
  await tab1.waitForSelector('#canvas[data-frame="3"][data-regions="1"]');  // reloaded after the conflict
  await tab1.context().close();
  await tab2.context().close();
});

test('a class of one\'s own model is offered for new boxes and added as that class', {timeout: 60000}, async () => {
  const page = await openTab('carol', 25);
  await shown(page, 25, 1);
  assert.deepEqual(await page.locator('#new-class option').evaluateAll((options) => options.map((o) => o.value)),
    ['face', 'plate', 'licence-disc']);
  await page.locator('#canvas').focus();
  await page.keyboard.press('3');
  assert.equal(await page.locator('#new-class').inputValue(), 'licence-disc');
  await drag(page, [20, 150], [80, 190]);
  await shown(page, 25, 2);
  await until(() => regionsOn(25).some((r) => r.source === 'manual' && r.class === 'licence-disc' && near(r.box, [20, 150, 80, 190])),
    'the added licence-disc box in the file');
  await page.context().close();
});

test('the saved file re-renders: the added box is hidden, the rest untouched', {timeout: 60000}, () => {
  const r = run(CLI, ['render', '--regions', 'regions.json', 'clip.mp4', '-o', 'rendered.mp4'], {cwd: dir});
  assert.equal(r.status, 0, r.stderr);
  const gray = (file) => {
    const g = run('ffmpeg', ['-loglevel', 'error', '-i', file, '-vf', 'select=eq(n\\,1)', '-frames:v', '1',
      '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], {cwd: dir, encoding: 'buffer'});
    assert.equal(g.status, 0);
    return g.stdout;
  };
  const before = gray('clip.mp4'), rendered = gray('rendered.mp4');
  const diff = (x1, y1, x2, y2) => {
    let sum = 0, n = 0;
    for (let y = y1; y < y2; ++y) for (let x = x1; x < x2; ++x) { sum += Math.abs(before[y * W + x] - rendered[y * W + x]); ++n; }
    return sum / n;
  };
  // The added box (20,150)-(100,200) is a mosaic over the grey bar's edge; far from every region little changes.
  assert.ok(diff(20, 150, 100, 200) > 8, `inside the added box: ${diff(20, 150, 100, 200)}`);
  assert.ok(diff(120, 200, 200, 240) < 4, `outside every region: ${diff(120, 200, 200, 240)}`);
});

// Another web page the reviewer opens cannot edit the regions file (a text/plain POST needs no preflight) nor,
// through DNS rebinding (its own name resolving to 127.0.0.1), read the unredacted frames.
function rawRequest(method, target, headers, body) {
  const {hostname, port} = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({host: hostname, port, method, path: target, headers, timeout: 10000}, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({status: res.statusCode, body: data}));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

test('another site can neither edit nor read frames', {timeout: 60000}, async () => {
  const host = new URL(url).host;
  const before = JSON.stringify(readRegions());
  const edit = JSON.stringify({reviewer: 'attacker', edit: {op: 'add', frame: 0, class: 'face', box: [1, 1, 20, 20]}});
  let r = await rawRequest('POST', '/api/edit', {'Host': host, 'Origin': 'http://evil.example', 'Content-Type': 'text/plain'}, edit);
  assert.equal(r.status, 403, r.body);
  r = await rawRequest('POST', '/api/edit', {'Host': host, 'Origin': 'http://evil.example', 'Content-Type': 'application/json'}, edit);
  assert.equal(r.status, 403, r.body);
  r = await rawRequest('POST', '/api/undo', {'Host': host, 'Content-Type': 'text/plain'}, JSON.stringify({reviewer: 'attacker'}));
  assert.equal(r.status, 403, r.body);
  r = await rawRequest('GET', '/api/frames/0/image', {'Host': `evil.example:${new URL(url).port}`});
  assert.equal(r.status, 403, r.body);
  assert.match(JSON.parse(r.body).error, /serves only its own page/);
  assert.equal(JSON.stringify(readRegions()), before, 'the regions file is unchanged');
  // The page's own requests still get through; a frame number too large for any video is past the end.
  r = await rawRequest('GET', '/api/frames/0/image', {'Host': host});
  assert.equal(r.status, 200);
  r = await rawRequest('GET', '/api/frames/99999999999999999999999', {'Host': host});
  assert.equal(r.status, 404, r.body);
});

// Regression (review of the review loop): the selection was an index into the frame's regions. Another tab
// deleted a region before the selected one, this tab's poll reloaded the frame, the same index named the next
// region, and Del deleted a face region the reviewer never chose (the chosen one stayed).
test('the selection follows its region when another tab changes the frame', {timeout: 60000}, async () => {
  const host = new URL(url).host;
  const post = (edit) => rawRequest('POST', '/api/edit', {'Host': host, 'Content-Type': 'application/json'},
    JSON.stringify({reviewer: 'dave', edit}));
  const boxes = [[20, 20, 60, 60], [100, 100, 140, 140], [200, 150, 240, 190]];
  for (const box of boxes) assert.equal((await post({op: 'add', frame: 15, class: 'face', box})).status, 200);
  const page = await openTab('erin', 15);
  await shown(page, 15, 3);
  await click(page, 120, 120);  // the middle box
  await page.waitForSelector('#canvas[data-selected="1"]');
  const r = await post({op: 'delete', frame: 15, region: {index: 0, class: 'face', box: boxes[0]}, scope: 'frame'});
  assert.equal(r.status, 200, r.body);
  await page.waitForSelector('#canvas[data-frame="15"][data-regions="2"][data-selected="0"]');  // the poll's reload
  await page.keyboard.press('Delete');
  await until(() => regionsOn(15).length === 1, 'the delete saved');
  assert.ok(near(regionsOn(15)[0].box, boxes[2]), `the box left is the one not chosen: ${JSON.stringify(regionsOn(15))}`);
  await page.context().close();
});

// Regression (review of the review loop): a body nested 200,000 deep crashed the server (stack overflow when the
// edit was copied), and a body of any size was read whole (1.5 GB: 2.1 GB of memory).
test('a deeply nested or huge request is refused and the server goes on', {timeout: 60000}, async () => {
  const host = new URL(url).host;
  const headers = {'Host': host, 'Content-Type': 'application/json'};
  const deep = '{"reviewer":"x","edit":{"op":"bogus","junk":' + '['.repeat(200000) + ']'.repeat(200000) + '}}';
  let r = await rawRequest('POST', '/api/edit', headers, deep);
  assert.equal(r.status, 400, r.body);
  r = await rawRequest('POST', '/api/edit', headers, JSON.stringify({reviewer: 'x', pad: 'x'.repeat(2 << 20)}));
  assert.equal(r.status, 413, r.body);
  r = await rawRequest('GET', '/api/session', {'Host': host});
  assert.equal(r.status, 200, 'the server still answers');
});

test('bad input: another video, a frame outside the video, a port in use', {timeout: 60000}, async () => {
  const other = path.join(dir, 'other.mp4');
  assert.equal(run('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=352x288:rate=10', '-t', '1',
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', other]).status, 0);
  let s = await startServer(['other.mp4', '--regions', 'regions.json', '--port', '0'], {expectUrl: false});
  assert.notEqual(s.code, 0);
  assert.match(s.err, /other\.mp4: is \d+ bytes but its regions entry \(clip\.mp4\) was made from a file of \d+ bytes/);

  // Regression (review of the review loop): a video of the same size, frame count and timestamps (another
  // camera's chunk) was reviewed under these regions, and the edits went to the file the entry names.
  const same = path.join(dir, 'same-size.mp4');
  assert.equal(run('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=${RATE}`, '-t', '3',
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-g', '10', '-bf', '2', same]).status, 0);
  s = await startServer(['same-size.mp4', '--regions', 'regions.json', '--port', '0'], {expectUrl: false});
  assert.notEqual(s.code, 0);
  assert.match(s.err, /same-size\.mp4: is \d+ bytes but its regions entry \(clip\.mp4\) was made from a file of \d+ bytes/);

  s = await startServer(['clip.mp4', '--regions', 'regions.json', '--port', '0', '--frame', '999'], {expectUrl: false});
  assert.notEqual(s.code, 0);
  assert.match(s.err, /--frame 999 is outside the video \(frames 0-29\)/);
  const res = await fetch(`${url}api/frames/999`);
  assert.equal(res.status, 404);
  assert.match((await res.json()).error, /outside the video/);

  const port = new URL(url).port;
  s = await startServer(['clip.mp4', '--regions', 'regions.json', '--port', port], {expectUrl: false});
  assert.notEqual(s.code, 0);
  assert.match(s.err, new RegExp(`127\\.0\\.0\\.1:${port}: the port is in use`));
});
