// The page of `tutti serve`: one file -> POST /v1/tag -> probability bars (with the model's
// thresholds) and a per-instrument timeline the audio player's cursor moves over.
'use strict';

const $ = (id) => document.getElementById(id);
let current = null;  // {file, json, tags}

function status(text, error) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

async function loadModel() {
  try {
    const r = await fetch('v1/model');
    const m = await r.json();
    $('model').textContent = `model ${m.file} (${m.model}, ${m.embedder} features): ` +
                             m.classes.join(', ');
  } catch (e) {
    $('model').textContent = 'the model description is not available';
  }
}

function download(name, text, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], {type}));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

function stem(name) { return name.replace(/\.[^.]*$/, '') || 'tags'; }

async function tag(file) {
  status(`tagging ${file.name}…`);
  $('result').hidden = true;
  const form = new FormData();
  form.append('file', file, file.name);
  let r;
  try {
    r = await fetch('v1/tag', {method: 'POST', body: form});
  } catch (e) {
    return status(`the server did not answer: ${e}`, true);
  }
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch (e) { return status(`HTTP ${r.status}: ${text}`, true); }
  if (!r.ok) return status(json.error || `HTTP ${r.status}`, true);
  const name = Object.keys(json.files)[0];
  current = {file, json, text, tags: json.files[name], name};
  render();
  status(`tagged in the server: ${current.tags.duration_s.toFixed(2)} s of audio, ` +
         `${current.tags.n_instances} instances of ${current.tags.hop_s} s`);
}

function render() {
  const t = current.tags;
  $('title').textContent = current.name;
  const names = Object.keys(t.instruments);
  names.sort((a, b) => t.instruments[b].probability - t.instruments[a].probability);

  const bars = $('bars');
  bars.replaceChildren();
  for (const n of names) {
    const i = t.instruments[n];
    const row = document.createElement('div');
    row.className = 'bar-row' + (i.present ? ' present' : '');
    row.dataset.instrument = n;
    row.dataset.probability = i.probability;
    row.innerHTML = `<span class="bar-name"></span><div class="bar-track">
        <div class="bar-fill"></div><div class="bar-threshold"></div></div>
        <span class="bar-value"></span>`;
    row.querySelector('.bar-name').textContent = n;
    row.querySelector('.bar-fill').style.width = `${(100 * i.probability).toFixed(1)}%`;
    row.querySelector('.bar-threshold').style.left = `${(100 * i.threshold).toFixed(1)}%`;
    row.querySelector('.bar-threshold').title = `threshold ${i.threshold.toFixed(3)}`;
    row.querySelector('.bar-value').textContent =
        `${i.probability.toFixed(3)} ${i.present ? '≥' : '<'} ${i.threshold.toFixed(3)}`;
    bars.appendChild(row);
  }

  // Lanes: per instance the instance probability (or the window's), as opacity; segments framed.
  const total = Math.max(t.duration_s, 1e-9);
  const pct = (s) => `${(100 * Math.min(s, total) / total).toFixed(3)}%`;
  const tl = $('timeline');
  tl.replaceChildren();
  for (const n of names) {
    const lane = document.createElement('div');
    lane.className = 'lane';
    lane.dataset.instrument = n;
    const label = document.createElement('span');
    label.className = 'lane-name';
    label.textContent = n;
    lane.appendChild(label);
    for (const step of t.timeline) {
      const p = (step.prob || step.window_prob)[n];
      const c = document.createElement('div');
      c.className = 'cell';
      c.style.left = pct(step.start_s);
      c.style.width = pct(step.end_s - step.start_s);
      c.style.opacity = (0.08 + 0.92 * p).toFixed(3);
      c.title = `${n} ${step.start_s.toFixed(2)}–${step.end_s.toFixed(2)} s: ${p.toFixed(3)}`;
      lane.appendChild(c);
    }
    for (const s of t.segments.filter((s) => s.instrument === n)) {
      const seg = document.createElement('div');
      seg.className = 'segment';
      seg.dataset.start = s.start_s;
      seg.dataset.end = s.end_s;
      seg.style.left = pct(s.start_s);
      seg.style.width = pct(s.end_s - s.start_s);
      seg.title = `${n} ${s.start_s.toFixed(2)}–${s.end_s.toFixed(2)} s`;
      lane.appendChild(seg);
    }
    tl.appendChild(lane);
  }
  const axis = $('axis');
  axis.replaceChildren();
  const step = total > 60 ? 10 : total > 20 ? 5 : 1;
  for (let s = 0; s <= total + 1e-9; s += step) {
    const tick = document.createElement('span');
    tick.style.left = pct(s);
    tick.textContent = `${s} s`;
    axis.appendChild(tick);
  }

  const player = $('player');
  if (player.dataset.url) URL.revokeObjectURL(player.dataset.url);
  player.dataset.url = URL.createObjectURL(current.file);
  player.src = player.dataset.url;
  moveCursor(0);
  $('result').hidden = false;
}

function moveCursor(time) {
  if (!current) return;
  const total = Math.max(current.tags.duration_s, 1e-9);
  $('cursor').style.left = `${(100 * Math.min(time, total) / total).toFixed(3)}%`;
  $('cursor').dataset.time = time;
}

function follow() {
  const p = $('player');
  moveCursor(p.currentTime);
  if (!p.paused) requestAnimationFrame(follow);
}

$('player').addEventListener('play', () => requestAnimationFrame(follow));
$('player').addEventListener('seeked', () => moveCursor($('player').currentTime));
$('player').addEventListener('timeupdate', () => moveCursor($('player').currentTime));
$('timeline-wrap').addEventListener('click', (e) => {
  if (!current) return;
  const box = $('timeline').getBoundingClientRect();
  const time = current.tags.duration_s * (e.clientX - box.left) / box.width;
  $('player').currentTime = Math.max(0, time);
  moveCursor(time);
});

$('file').addEventListener('change', (e) => { if (e.target.files[0]) tag(e.target.files[0]); });
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer.files[0]) tag(e.dataTransfer.files[0]);
});

$('download-json').addEventListener('click', () => {
  download(`${stem(current.name)}.json`, current.text, 'application/json');
});
$('download-tsv').addEventListener('click', async () => {
  const form = new FormData();
  form.append('file', current.file, current.file.name);
  const r = await fetch('v1/tag?format=tsv', {method: 'POST', body: form});
  const text = await r.text();
  if (!r.ok) return status(`TSV: ${text}`, true);
  download(`${stem(current.name)}.tsv`, text, 'text/tab-separated-values');
});

loadModel();
