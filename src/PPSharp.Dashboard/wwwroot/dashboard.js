// PPSharp dashboard: reads Server-Sent Events from /events (one message a second) and redraws. No dependencies
// but uPlot, served beside this file.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const windowSeconds = 300;
  const streamSeconds = 60; // the task stream shows at most the last minute, at least ten seconds
  const history = { time: [], queued: [], throughput: [] };
  let tasks = [];
  const colours = new Map();

  function colourOf(fn) {
    if (!colours.has(fn)) {
      let h = 0;
      for (const ch of fn) h = (h * 31 + ch.codePointAt(0)) >>> 0;
      // Hues away from red, which marks failures.
      colours.set(fn, `hsl(${30 + (h % 300)}, 62%, 50%)`);
    }
    return colours.get(fn);
  }

  function chart(id, label, stroke) {
    const el = $(id);
    return new uPlot({
      width: Math.max(300, el.clientWidth), height: 140, legend: { show: false },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      series: [{}, { label, stroke, width: 2, fill: stroke + "22" }],
      axes: [{ size: 30 }, { size: 40 }],
    }, [[], []], el);
  }

  const queueChart = chart("queue-chart", "queued", "#7c3aed");
  const throughputChart = chart("throughput-chart", "jobs/s", "#059669");
  window.addEventListener("resize", () => {
    for (const [c, id] of [[queueChart, "queue-chart"], [throughputChart, "throughput-chart"]]) c.setSize({ width: Math.max(300, $(id).clientWidth), height: 140 });
    drawStream();
  });

  function addSample(s) {
    history.time.push(s.time); history.queued.push(s.queued); history.throughput.push(s.throughput);
    while (history.time.length && history.time[0] < s.time - windowSeconds) { history.time.shift(); history.queued.shift(); history.throughput.shift(); }
  }

  function text(id, value) { $(id).textContent = value; }

  function bytes(n) { return n == null ? "–" : (n / 1048576).toFixed(0) + " MiB"; }

  function percent(cpu) { return cpu == null ? "–" : cpu.toFixed(0) + " %"; }

  function row(className, cells, state, stateText, runningCell) {
    const tr = document.createElement("tr");
    tr.className = className;
    cells.forEach((value, i) => {
      const td = document.createElement("td");
      if (i === 1 && state) { const span = document.createElement("span"); span.className = "state " + state; span.textContent = stateText; td.appendChild(span); }
      else td.textContent = value;
      if (i === 2 && runningCell) td.className = "running";
      tr.appendChild(td);
    });
    return tr;
  }

  // A local worker's row; a node's row (its memory and CPU are its workers' sums), then a row per worker of the node.
  function drawWorkers(workers) {
    const rows = [];
    for (const w of workers) {
      const state = w.busy > 0 ? "busy" : "idle";
      const label = w.pid ? w.name : `${w.name} (${w.capacity} workers)`;
      const stateText = w.capacity > 1 ? `${w.busy}/${w.capacity} busy` : state;
      rows.push(row(w.pid ? "worker" : "worker node", [label, null, w.running.join(", ") || "–", w.sent || "–", bytes(w.rss), percent(w.cpu)], state, stateText, true));
      for (const n of w.nodeWorkers || []) {
        const s = n.busy ? "busy" : "idle";
        rows.push(row("node-worker", [`\u2003pid ${n.pid}`, null, "", "", bytes(n.rss), percent(n.cpu)], s, s, false));
      }
      const unlisted = (w.nodeWorkerCount || 0) - (w.nodeWorkers || []).length;
      if (unlisted > 0) rows.push(row("node-worker more", [`\u2003${unlisted} more not listed`, null, "", "", "", ""], null, "", false));
    }
    $("workers").tBodies[0].replaceChildren(...rows);
  }

  const openFailures = new Set();
  function drawFailures(failures) {
    const box = $("failures");
    if (!failures.length) { box.innerHTML = '<p class="none">none</p>'; return; }
    box.replaceChildren(...failures.map((f, i) => {
      const d = document.createElement("details");
      d.className = "failure";
      d.open = i === 0 || openFailures.has(f.job);
      d.addEventListener("toggle", () => { if (d.open) openFailures.add(f.job); else openFailures.delete(f.job); });
      const s = document.createElement("summary");
      s.textContent = `job #${f.job} ${f.function} on ${f.node}: ${f.type}: ${f.message}`;
      const pre = document.createElement("pre");
      pre.textContent = f.stackTrace || "(no stack trace)";
      d.append(s, pre);
      return d;
    }));
  }

  const svgNs = "http://www.w3.org/2000/svg";
  function svg(name, attrs, parent) {
    const el = document.createElementNS(svgNs, name);
    for (const k in attrs) el.setAttribute(k, attrs[k]);
    parent.appendChild(el);
    return el;
  }

  let lastWorkers = [];
  function drawStream() {
    const root = $("task-stream");
    const width = root.clientWidth || 800;
    const now = Date.now();
    const earliest = tasks.reduce((m, t) => Math.min(m, t.start), now);
    const span = Math.min(streamSeconds * 1000, Math.max(10000, (now - earliest) * 1.15));
    const t0 = now - span;
    const shown = tasks.filter((t) => t.end >= t0);
    const lanes = [...new Set([...lastWorkers.filter((w) => w.pid).map((w) => w.name), ...shown.map((t) => t.lane)])].sort();
    const laneHeight = 18, left = 130, top = 4;
    const height = Math.max(60, top + lanes.length * laneHeight + 18);
    root.setAttribute("height", height);
    root.style.height = height + "px";
    root.replaceChildren();
    const x = (t) => left + ((t - t0) / (now - t0)) * (width - left - 8);
    lanes.forEach((lane, i) => {
      const y = top + i * laneHeight;
      svg("line", { x1: left, x2: width - 8, y1: y + laneHeight - 1, y2: y + laneHeight - 1 }, root);
      svg("text", { x: 4, y: y + 13, class: "lane-label" }, root).textContent = lane;
    });
    for (const t of shown) {
      const lane = lanes.indexOf(t.lane);
      const x1 = x(Math.max(t.start, t0));
      const rect = svg("rect", {
        x: x1, y: top + lane * laneHeight + 2, width: Math.max(2, x(t.end) - x1), height: laneHeight - 5, rx: 2,
        fill: t.failed ? "var(--failed)" : colourOf(t.function),
        class: t.failed ? "task failed" : "task", "data-job": t.job,
      }, root);
      svg("title", {}, rect).textContent = `job #${t.job} ${t.function}: ${(t.end - t.start).toFixed(1)} ms${t.failed ? " (failed)" : ""}`;
    }
    const axisY = top + lanes.length * laneHeight + 13;
    const step = span > 30000 ? 10000 : span > 15000 ? 5000 : 2000;
    for (let ago = 0; ago <= span; ago += step) {
      svg("text", { x: x(now - ago), y: axisY, class: "axis", "text-anchor": ago === 0 ? "end" : "middle" }, root).textContent = ago === 0 ? "now" : `-${ago / 1000}s`;
    }
    const fns = [...new Set(shown.map((t) => t.function))];
    $("legend").replaceChildren(...fns.map((f) => { const s = document.createElement("span"); s.style.setProperty("--c", colourOf(f)); s.textContent = f; return s; }));
  }

  function onMessage(message) {
    const state = message.state;
    if (message.history) message.history.forEach(addSample); else if (state.sample) addSample(state.sample);
    tasks = tasks.concat(message.tasks).filter((t) => t.end >= Date.now() - streamSeconds * 1000 - 5000);
    text("worker-count", state.workerCount);
    text("busy-count", state.busy);
    text("node-count", state.nodes.length);
    text("queue-length", state.queued);
    text("jobs-sent", state.sent);
    text("jobs-running", state.running);
    text("jobs-submitted", state.submitted);
    text("jobs-completed", state.completed);
    text("jobs-failed", state.failed);
    $("jobs-failed").classList.toggle("some", state.failed > 0);
    text("stats", state.stats);
    lastWorkers = state.workers;
    drawWorkers(state.workers);
    drawFailures(state.failures);
    queueChart.setData([history.time, history.queued]);
    throughputChart.setData([history.time, history.throughput]);
    drawStream();
  }

  const events = new EventSource("events");
  events.onopen = () => { const c = $("connection"); c.textContent = "live"; c.className = "status live"; };
  events.onerror = () => { const c = $("connection"); c.textContent = "disconnected, retrying…"; c.className = "status"; };
  events.onmessage = (e) => onMessage(JSON.parse(e.data));
})();
