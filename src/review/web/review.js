// The review page: shows one frame of the input with its regions, and sends each change to the server,
// which applies it to the regions file and saves it at once (docs/review.md). No build step: plain ES2020.
'use strict';

const $ = (id) => document.getElementById(id);
const canvas = $('canvas');
const ctx = canvas.getContext('2d');
const HANDLE = 8;  // px on screen around a corner that grabs it for resizing

const state = {
  session: null,
  frame: 0,
  data: null,          // {frame, time, regions, reviewed, revision}
  image: null,         // the frame's picture
  revision: -1,
  selected: -1,        // index into data.regions
  drag: null,          // {kind: 'draw'|'move'|'resize', corner, start: [x, y], box}
  queue: [],
  queuePos: -1,
  reviewedFrames: new Set(),
  pollPaused: false,   // tests hold a tab's view still to make it stale on purpose
  typingFrame: false,  // a frame number is being typed: reloads leave the box alone
  loads: 0,            // frame requests made; a response is shown only if it is the latest
  target: 0,           // the frame last asked for (shown once its answer arrives): reloads refresh this one
  selectAdded: false,  // select the last region when the frame is next shown (the box just added)
};
window.roadveilReview = state;  // for tests and the curious

function reviewer() { return $('reviewer').value.trim(); }

function setStatus(text, error = false) {
  const el = $('status');
  el.textContent = text;
  el.className = error ? 'error' : '';
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)};
  const res = await fetch(path, init);
  const json = await res.json().catch(() => ({error: 'the server did not answer with JSON'}));
  if (!res.ok) {
    const err = new Error(json.error || res.statusText);
    err.status = res.status;
    throw err;
  }
  return json;
}

// Frame -> canvas scale: the canvas has the frame's own size, CSS scales it to the page.
function toFrame(event) {
  const r = canvas.getBoundingClientRect();
  return [(event.clientX - r.left) * canvas.width / r.width, (event.clientY - r.top) * canvas.height / r.height];
}
function screenPx() { return canvas.width / canvas.getBoundingClientRect().width; }

function draw() {
  if (state.image) ctx.drawImage(state.image, 0, 0, canvas.width, canvas.height);
  else { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height); }
  const px = screenPx();
  const regions = state.data ? state.data.regions : [];
  regions.forEach((r, i) => {
    let b = r.box;
    if (state.drag && state.drag.index === i && state.drag.box) b = state.drag.box;
    const carried = ['extended', 'backward', 'interpolated'].includes(r.source);
    ctx.setLineDash(carried ? [6 * px, 4 * px] : []);
    ctx.lineWidth = (i === state.selected ? 3 : 2) * px;
    ctx.strokeStyle = r.class === 'plate' ? '#ffcc00' : r.class === 'face' ? '#00e0ff' : '#d070ff';
    if (i === state.selected) ctx.strokeStyle = '#ff3b3b';
    ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
    ctx.setLineDash([]);
    if (i === state.selected) {
      ctx.fillStyle = '#ff3b3b';
      for (const [x, y] of [[b[0], b[1]], [b[2], b[1]], [b[0], b[3]], [b[2], b[3]]])
        ctx.fillRect(x - 3 * px, y - 3 * px, 6 * px, 6 * px);
    }
  });
  if (state.drag && state.drag.kind === 'draw' && state.drag.box) {
    const b = state.drag.box;
    ctx.lineWidth = 2 * px;
    ctx.strokeStyle = '#7CFC00';
    ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
  }
}

function showFrameInfo() {
  const d = state.data;
  // A reload that lands while a frame number is typed (an edit's or a poll's) must not put the shown frame
  // back in the box: Enter then went to that frame, not the typed one (seen in the two-tab browser test).
  if (!state.typingFrame) $('frame-input').value = d.frame;
  $('frame-time').textContent = formatTime(d.time);
  const badge = $('reviewed-badge');
  badge.textContent = d.reviewed ? `reviewed by ${d.reviewed.by}` : 'not reviewed';
  badge.className = d.reviewed ? 'badge done' : 'badge';
  $('revision').textContent = `saved, revision ${d.revision}`;
  canvas.dataset.regions = String(d.regions.length);
  canvas.dataset.frame = String(d.frame);
  canvas.dataset.selected = String(state.selected);
  const sel = d.regions[state.selected];
  $('selection').textContent = sel
    ? `selected: ${sel.class}, ${sel.source || 'manual'}${sel.track !== undefined ? ', track ' + sel.track : ''}` +
      `${sel.score !== undefined ? ', score ' + sel.score : ''}, box ${sel.box.map((v) => v.toFixed(0)).join(' ')}`
    : `${d.regions.length} region${d.regions.length === 1 ? '' : 's'} on this frame`;
  markQueue();
}

function formatTime(t) {
  const m = Math.floor(t / 60), s = t - 60 * m;
  return `${m}:${s.toFixed(3).padStart(6, '0')}`;
}

// The index of `region` among `regions` after a reload: the region of its track (and class), nearest to where it
// was; without a track, the one of its class with the same box. -1 when it is gone (deleted, or moved by a
// change that was not this one's: then nothing is selected rather than something else).
function sameRegion(regions, region) {
  const hasTrack = region.track !== undefined && region.track >= 0;
  let best = -1, bestDistance = Infinity;
  regions.forEach((r, i) => {
    if (r.class !== region.class) return;
    const distance = r.box.reduce((sum, v, k) => sum + Math.abs(v - region.box[k]), 0);
    if (hasTrack ? r.track !== region.track : distance > 0.05) return;
    if (distance < bestDistance) { best = i; bestDistance = distance; }
  });
  return best;
}

async function loadFrame(index, {keepSelection = false, image = true} = {}) {
  const total = state.session.frame_count;
  index = Math.max(0, Math.min(total - 1, index));
  // Only the latest request may show its frame, and reloads (after an edit, an undo, a poll) refresh the frame
  // last asked for: an edit's reload of frame 2, answered after the user had gone to frame 3, put frame 2 back
  // on the screen (seen now and then in the two-tab browser test).
  const ticket = ++state.loads;
  state.target = index;
  try {
    const data = await api(`/api/frames/${index}`);
    if (ticket !== state.loads) return;
    const changed = index !== state.frame;
    const was = state.data && state.selected >= 0 ? state.data.regions[state.selected] : undefined;
    state.frame = index;
    state.data = data;
    state.revision = data.revision;
    // The selection follows its region, not its place in the list: when another tab deleted a region before
    // it, the same index named the next one, and Del deleted a face region the reviewer never chose.
    state.selected = keepSelection && !changed && was ? sameRegion(data.regions, was) : -1;
    if (state.selectAdded && !changed) state.selected = data.regions.length - 1;  // the box just drawn
    state.selectAdded = false;
    history.replaceState(null, '', `#frame=${index}`);
    if (image || changed) await loadImage(ticket);
    if (ticket !== state.loads) return;
    showFrameInfo();
    draw();
  } catch (e) {
    setStatus(e.message, true);
  }
}

function loadImage(ticket = state.loads) {
  return new Promise((resolve) => {
    const img = new Image();
    const hidden = $('preview').checked ? `?hidden=1&r=${state.revision}` : '';
    img.onload = () => { if (ticket === state.loads) state.image = img; resolve(); };
    img.onerror = () => { setStatus(`frame ${state.frame}: the picture could not be loaded`, true); resolve(); };
    img.src = `/api/frames/${state.frame}/image${hidden}`;
  });
}

async function edit(body, message, {selectAdded = false} = {}) {
  if (!reviewer()) {
    setStatus('enter your name (reviewer) first: every change is recorded with it', true);
    $('reviewer').focus();
    return false;
  }
  localStorage.setItem('roadveil-reviewer', reviewer());
  try {
    const result = await api('/api/edit', {reviewer: reviewer(), edit: body});
    setStatus(`${message} (revision ${result.revision})`);
    // A box moved or resized here is still the selected one: the reload looks for it where it went (a box
    // without a track is known by its box, and was deselected by its own move).
    if (body.op === 'update' && body.region && state.data && state.selected === body.region.index && state.data.regions[state.selected])
      state.data.regions[state.selected] = {...state.data.regions[state.selected], box: body.box};
    state.selectAdded = selectAdded;  // selected before the frame is shown again, not after
    await loadFrame(state.target, {keepSelection: true, image: $('preview').checked});
    await refreshOverview();
    return true;
  } catch (e) {
    setStatus(e.message, true);
    if (e.status === 409) await loadFrame(state.target, {image: false});
    return false;
  }
}

function ref(i) {
  const r = state.data.regions[i];
  return {index: i, class: r.class, box: r.box};
}

async function undo() {
  if (!reviewer()) { setStatus('enter your name (reviewer) first', true); return; }
  try {
    const result = await api('/api/undo', {reviewer: reviewer()});
    setStatus(`undone (revision ${result.revision})`);
    if (result.frames && result.frames.length && !result.frames.includes(state.frame)) {
      await loadFrame(result.frames[0]);
    } else {
      await loadFrame(state.target, {image: $('preview').checked});
    }
    await refreshOverview();
  } catch (e) {
    setStatus(e.message, true);
  }
}

function hit(x, y) {
  const px = screenPx(), h = HANDLE * px;
  const regions = state.data ? state.data.regions : [];
  if (state.selected >= 0 && regions[state.selected]) {
    const b = regions[state.selected].box;
    const corners = [[b[0], b[1], 'tl'], [b[2], b[1], 'tr'], [b[0], b[3], 'bl'], [b[2], b[3], 'br']];
    for (const [cx, cy, name] of corners)
      if (Math.abs(x - cx) <= h && Math.abs(y - cy) <= h) return {index: state.selected, corner: name};
  }
  // The smallest box under the pointer: nested regions stay reachable.
  let best = -1, bestArea = Infinity;
  regions.forEach((r, i) => {
    const b = r.box;
    const area = (b[2] - b[0]) * (b[3] - b[1]);
    if (x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3] && area < bestArea) { best = i; bestArea = area; }
  });
  return best >= 0 ? {index: best, corner: null} : null;
}

canvas.addEventListener('mousedown', (event) => {
  if (!state.data || event.button !== 0) return;
  canvas.focus();
  const [x, y] = toFrame(event);
  const h = hit(x, y);
  if (h) {
    state.selected = h.index;
    state.drag = {kind: h.corner ? 'resize' : 'move', corner: h.corner, index: h.index, start: [x, y],
                  origin: state.data.regions[h.index].box.slice(), box: null};
  } else {
    state.selected = -1;
    state.drag = {kind: 'draw', start: [x, y], box: null};
  }
  showFrameInfo();
  draw();
});

window.addEventListener('mousemove', (event) => {
  const d = state.drag;
  if (!d) return;
  const [x, y] = toFrame(event);
  const W = canvas.width, H = canvas.height;
  const clampX = (v) => Math.max(0, Math.min(W, v)), clampY = (v) => Math.max(0, Math.min(H, v));
  if (d.kind === 'draw') {
    d.box = [Math.min(d.start[0], x), Math.min(d.start[1], y), Math.max(d.start[0], x), Math.max(d.start[1], y)]
      .map((v, i) => (i % 2 ? clampY(v) : clampX(v)));
  } else if (d.kind === 'move') {
    const dx = x - d.start[0], dy = y - d.start[1];
    d.box = [d.origin[0] + dx, d.origin[1] + dy, d.origin[2] + dx, d.origin[3] + dy];
  } else {
    const b = d.origin.slice();
    if (d.corner.includes('l')) b[0] = clampX(x); else b[2] = clampX(x);
    if (d.corner.includes('t')) b[1] = clampY(y); else b[3] = clampY(y);
    d.box = [Math.min(b[0], b[2]), Math.min(b[1], b[3]), Math.max(b[0], b[2]), Math.max(b[1], b[3])];
  }
  draw();
});

window.addEventListener('mouseup', async () => {
  const d = state.drag;
  if (!d) return;
  state.drag = null;
  if (!d.box) { draw(); return; }
  const b = d.box.map((v) => Math.round(v * 100) / 100);
  if (b[2] - b[0] < 2 || b[3] - b[1] < 2) { draw(); return; }  // a click, not a box
  if (d.kind === 'draw') {
    const cls = $('new-class').value;
    await edit({op: 'add', frame: state.frame, class: cls, box: b}, `added a ${cls} box`, {selectAdded: true});
  } else {
    await edit({op: 'update', frame: state.frame, region: ref(d.index), box: b, scope: $('scope').value},
               d.kind === 'move' ? 'moved the box' : 'resized the box');
  }
  showFrameInfo();
  draw();
});

async function deleteSelected(scope) {
  if (state.selected < 0) { setStatus('select a box first (click it)', true); return; }
  const r = ref(state.selected);
  state.selected = -1;
  await edit({op: 'delete', frame: state.frame, region: r, scope}, `deleted the ${r.class} box`);
}

async function extendSelected(direction) {
  if (state.selected < 0) { setStatus('select a box first (click it)', true); return; }
  const frames = parseInt($('extend-frames').value, 10) || 1;
  await edit({op: 'extend', frame: state.frame, region: ref(state.selected), direction, frames},
             `copied the box ${direction} over ${frames} frames`);
}

async function toggleReviewed() {
  const mark = !state.data.reviewed;
  await edit({op: 'reviewed', frame: state.frame, reviewed: mark}, mark ? 'frame marked reviewed' : 'review mark removed');
}

async function loadQueue() {
  const q = await api('/api/queue');
  state.queue = q.queue;
  $('queue-count').textContent = `(${q.queue.length} frames)`;
  const list = $('queue');
  list.textContent = '';
  q.queue.forEach((item, i) => {
    const li = document.createElement('li');
    li.className = 'queue-item';
    li.dataset.frame = item.frame;
    const why = (item.reasons || []).map((r) => r.what).filter((v, k, a) => a.indexOf(v) === k).join(', ');
    li.innerHTML = `frame ${item.frame} <span class="why"></span>`;
    li.querySelector('.why').textContent = `${formatTime(item.time)} ${why}`;
    li.addEventListener('click', () => { state.queuePos = i; loadFrame(item.frame); });
    list.appendChild(li);
  });
  markQueue();
}

function markQueue() {
  for (const li of document.querySelectorAll('#queue li')) {
    const f = Number(li.dataset.frame);
    li.classList.toggle('current', f === state.frame);
    li.classList.toggle('done', state.reviewedFrames.has(f));
  }
}

async function refreshOverview() {
  try {
    const o = await api('/api/overview');
    state.reviewedFrames = new Set(o.reviewed);
    markQueue();
  } catch (e) { /* the next poll tries again */ }
}

function queueStep(step) {
  if (!state.queue.length) { setStatus('the review queue is empty'); return; }
  state.queuePos = Math.max(0, Math.min(state.queue.length - 1, state.queuePos + step));
  loadFrame(state.queue[state.queuePos].frame);
}

// Another tab (or person) changed the file: show it, unless a drag is under way.
async function poll() {
  if (!state.data || state.drag || document.hidden || state.pollPaused) return;
  try {
    const o = await api(`/api/frames/${state.frame}`);
    if (o.revision !== state.revision && !state.drag) {
      await loadFrame(state.target, {keepSelection: true, image: $('preview').checked});
      await refreshOverview();
    }
  } catch (e) { /* server gone: the next poll says so */ setStatus('the review server does not answer', true); }
}

document.addEventListener('keydown', (event) => {
  if (event.target.tagName === 'INPUT' || event.target.tagName === 'SELECT') {
    if (event.key === 'Enter' && event.target === $('frame-input')) goToTypedFrame();
    return;
  }
  const k = event.key;
  const step = event.shiftKey ? 10 : 1;
  if (k === 'ArrowRight') loadFrame(state.target + step);
  else if (k === 'ArrowLeft') loadFrame(state.target - step);
  else if (k === 'n' || k === 'N') queueStep(1);
  else if (k === 'p' || k === 'P') queueStep(-1);
  else if (k >= '1' && k <= '9' && Number(k) <= $('new-class').options.length) $('new-class').selectedIndex = Number(k) - 1;
  else if (k === 'Delete' || k === 'Backspace') deleteSelected(event.shiftKey ? 'forward' : $('scope').value);
  else if (k === '[') extendSelected('backward');
  else if (k === ']') extendSelected('forward');
  else if (k === 'r' || k === 'R') toggleReviewed();
  else if (k === 'u' || k === 'U' || ((event.ctrlKey || event.metaKey) && (k === 'z' || k === 'Z'))) undo();
  else if (k === 'h' || k === 'H') { $('preview').checked = !$('preview').checked; loadFrame(state.target); }
  else if (k === 'Escape') { state.selected = -1; state.drag = null; showFrameInfo(); draw(); }
  else return;
  event.preventDefault();
});

$('prev').onclick = () => loadFrame(state.target - 1);
$('next').onclick = () => loadFrame(state.target + 1);
$('queue-prev').onclick = () => queueStep(-1);
$('queue-next').onclick = () => queueStep(1);
$('delete').onclick = () => deleteSelected($('scope').value);
$('extend-back').onclick = () => extendSelected('backward');
$('extend-forward').onclick = () => extendSelected('forward');
$('reviewed').onclick = toggleReviewed;
$('undo').onclick = undo;
$('preview').onchange = () => loadFrame(state.target);
$('frame-input').oninput = () => { state.typingFrame = true; };
$('frame-input').onchange = goToTypedFrame;
function goToTypedFrame() {
  if (!state.typingFrame) return;  // Enter, then the change event of the same value
  state.typingFrame = false;
  loadFrame(parseInt($('frame-input').value, 10) || 0);
}
$('reviewer').onchange = () => localStorage.setItem('roadveil-reviewer', reviewer());

async function start() {
  try {
    state.session = await api('/api/session');
  } catch (e) {
    setStatus(`cannot reach the review server: ${e.message}`, true);
    return;
  }
  const s = state.session;
  document.title = `roadveil review: ${s.input}`;
  $('file').textContent = `${s.input} (${s.width}x${s.height}), regions: ${s.regions}`;
  $('frame-total').textContent = s.frame_count;
  $('frame-input').max = s.frame_count - 1;
  canvas.width = s.width;
  canvas.height = s.height;
  // New boxes: face, plate, and the classes of one's own models that this regions file holds (keys 1-9).
  $('new-class').replaceChildren(...(s.classes || ['face', 'plate']).map((name, i) => {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = i < 9 ? `${name} (${i + 1})` : name;
    return option;
  }));
  $('reviewer').value = localStorage.getItem('roadveil-reviewer') || s.reviewer || '';
  await loadQueue();
  await refreshOverview();
  const hash = /frame=(\d+)/.exec(location.hash);
  let first = hash ? Number(hash[1]) : s.start_frame;
  if (first < 0) {
    state.queuePos = state.queue.length ? 0 : -1;
    first = state.queue.length ? state.queue[0].frame : 0;
  }
  await loadFrame(first);
  setStatus(s.type === 'image' ? 'photo: one frame' : 'ready');
  setInterval(poll, 1000);
}

start();
