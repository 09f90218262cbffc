// sweepnb's interactive dashboard: one anywidget ES module, no build step.
// Python (sweepnb/notebook/widget.py) sends the data; this module only draws it and sends back
// the brush, the pins and the Stop button's click. The rule of which runs a brush keeps is the
// one of sweepnb/analysis/selection.py (numeric: lo <= v <= hi; categorical: label listed; a
// run without a value on a brushed axis is out; a pinned run is kept even outside the brush).

const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];
const TABLE_ROWS = 200;
const HINT =
  "Hover a line, point, curve or bar for its run · drag along an axis to brush (a click on the axis clears it) · " +
  "click a run or a table row to pin it · click a column to sort";

function h(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function hexToRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function viridis(t) {
  t = Math.max(0, Math.min(1, t));
  const x = t * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const a = hexToRgb(VIRIDIS[i]), b = hexToRgb(VIRIDIS[i + 1]);
  const f = x - i;
  return `rgb(${a.map((c, k) => Math.round(c + (b[k] - c) * f)).join(",")})`;
}

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3).replace(/\.?0+e/, "e") : String(+v.toPrecision(5));
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function flatten(obj, prefix = "", out = []) {
  for (const [k, v] of Object.entries(obj || {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length)
      flatten(v, prefix + k + ".", out);
    else out.push([prefix + k, v]);
  }
  return out;
}

function niceTicks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

// ------------------------------------------------------------------------------ the data

class Data {
  constructor(model) {
    this.model = model;
    this.runs = []; // records sorted by run number
    this.byId = new Map();
    this.blocks = new Map(); // block index -> {number: record}
  }
  setBlock(index, records) {
    this.blocks.set(index, records || {});
    this.version = (this.version || 0) + 1; // the runs' points are recomputed once per change
    const all = [];
    for (const recs of this.blocks.values()) for (const r of Object.values(recs)) all.push(r);
    all.sort((a, b) => a.n - b.n);
    this.runs = all;
    this.byId = new Map(all.map((r) => [r.id, r]));
  }
  axes() {
    return this.model.get("axes") || [];
  }
  value(run, axis) {
    return axis.metric ? run.m : run.p[axis.name];
  }
  // the rule of selection.py
  inBrush(run, brush, axes) {
    for (const axis of axes) {
      const rule = brush[axis.name];
      if (!rule) continue;
      const v = this.value(run, axis);
      if (v === null || v === undefined) return false;
      if (axis.kind === "categorical") {
        if (!rule.includes(String(v))) return false;
      } else if (!(v >= rule[0] && v <= rule[1])) return false;
    }
    return true;
  }
  kept() {
    const brush = this.model.get("brush") || {};
    const pinned = new Set(this.model.get("pinned") || []);
    const axes = this.axes();
    const brushed = Object.keys(brush).length > 0;
    if (!brushed) return this.runs;
    return this.runs.filter((r) => (brushed && this.inBrush(r, brush, axes)) || pinned.has(r.id));
  }
}

// position of a value on an axis, in [0, 1] (null: no value)
function unit(axis, v) {
  if (v === null || v === undefined) return null;
  if (axis.kind === "categorical") {
    const i = axis.categories.indexOf(String(v));
    if (i < 0) return null;
    return axis.categories.length > 1 ? i / (axis.categories.length - 1) : 0.5;
  }
  let lo = axis.lo, hi = axis.hi, x = v;
  if (lo === null || hi === null) return null;
  if (axis.kind === "log") {
    if (!(v > 0)) return null;
    lo = Math.log10(lo); hi = Math.log10(hi); x = Math.log10(v);
  }
  return hi > lo ? (x - lo) / (hi - lo) : 0.5;
}

function fromUnit(axis, t) {
  let lo = axis.lo, hi = axis.hi;
  if (axis.kind === "log") {
    lo = Math.log10(lo); hi = Math.log10(hi);
    return Math.pow(10, lo + t * (hi - lo));
  }
  return lo + t * (hi - lo);
}

function axisTicks(axis) {
  if (axis.kind === "categorical") return axis.categories.map((c) => [unit(axis, c), c]);
  if (axis.lo === null) return [];
  if (axis.kind === "log") {
    const a = Math.floor(Math.log10(axis.lo)), b = Math.ceil(Math.log10(axis.hi));
    let ticks = [];
    for (let e = a; e <= b; e++) ticks.push(Math.pow(10, e));
    ticks = ticks.filter((t) => t >= axis.lo * 0.999 && t <= axis.hi * 1.001);
    if (ticks.length < 2) ticks = [axis.lo, axis.hi];
    return ticks.map((t) => [unit(axis, t), fmt(t)]);
  }
  if (!(axis.hi > axis.lo)) return [[0.5, fmt(axis.lo)]];
  return niceTicks(axis.lo, axis.hi, 4).map((t) => [unit(axis, t), fmt(t)]);
}

// ------------------------------------------------------------------------------ the view

class View {
  constructor(model, el, host) {
    this.model = model;
    this.host = host;
    this.data = new Data(model);
    this.sort = { key: "m", desc: null };
    this.hover = null;
    this.timing = { draws: 0, lastDraw: 0, lastBrush: 0 };
    this.cleanups = [];
    this.root = h("div", "sweepnb-dash");
    const scale = model.get("scale") || 1;
    this.root.style.setProperty("--sd-scale", String(scale));
    this.root.style.fontSize = `${14 * scale}px`;
    el.appendChild(this.root);
    this.build();
    this.root.__sweepnb = this; // tests and the benchmark reach the view from the page
  }

  build() {
    const r = this.root;
    const head = h("div", "sd-head");
    this.statusEl = h("div", "sd-status");
    this.stopEl = h("button", "sd-stop", "■ Stop sweep");
    this.stopEl.title = "end the sweep gracefully: running runs finish";
    this.stopEl.onclick = () => {
      this.model.send({ type: "stop" });
      this.stopEl.disabled = true;
      this.stopEl.textContent = "stopping…";
    };
    head.append(this.statusEl, this.stopEl);
    this.hintEl = h("div", "sd-hint", HINT);
    this.brushEl = h("div", "sd-brushline");
    const row1 = h("div", "sd-row");
    this.historyEl = this.panel("metric per run · best so far", "sd-history");
    this.curvesEl = this.panel("learning curves", "sd-curves");
    row1.append(this.historyEl.box, this.curvesEl.box);
    this.parEl = this.panel("parallel coordinates — drag along an axis to brush", "sd-parallel");
    const row2 = h("div", "sd-row");
    this.impEl = this.panel("parameter importance · correlation", "sd-importance");
    this.pinEl = this.panel("pinned run", "sd-pinned");
    row2.append(this.impEl.box, this.pinEl.box);
    this.tableEl = this.panel("runs", "sd-table");
    this.tip = h("div", "sd-tip");
    this.tip.style.display = "none";
    r.append(head, this.hintEl, this.brushEl, row1, this.parEl.box, row2, this.tableEl.box, this.tip);

    this.hcanvas = h("canvas", "sd-canvas");
    this.historyEl.body.append(this.hcanvas);
    this.pcanvas = h("canvas", "sd-canvas");
    this.psvg = svg("svg", { class: "sd-overlay" });
    this.parEl.body.append(this.pcanvas, this.psvg);
    this.parEl.body.classList.add("sd-stack");
    this.bindParallel();
    this.bindHistory();
  }

  panel(title, cls) {
    const box = h("div", "sd-panel " + cls);
    const t = h("div", "sd-title", title);
    const body = h("div", "sd-body");
    box.append(t, body);
    return { box, body, title: t };
  }

  // -- styling helpers ---------------------------------------------------------------------
  get scale() {
    return this.model.get("scale") || 1;
  }
  css(name, fallback) {
    const v = getComputedStyle(this.root).getPropertyValue(name).trim();
    return v || fallback;
  }
  stateColor(state) {
    return (this.model.get("state_colors") || {})[state] || "#888";
  }
  metricAxis() {
    return this.data.axes().find((a) => a.metric);
  }
  metricColor(v) {
    const axis = this.metricAxis();
    if (!axis || v === null || v === undefined) return "#999";
    const t = unit(axis, v);
    const goal = (this.model.get("metric") || {}).goal;
    return viridis(goal === "maximize" ? t : 1 - t); // bright yellow = good
  }

  // -- scheduling --------------------------------------------------------------------------
  schedule(...parts) {
    this.pending = this.pending || new Set();
    for (const p of parts) this.pending.add(p);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      const parts = this.pending;
      this.pending = new Set();
      this.draw(parts);
    });
  }
  draw(parts) {
    const t0 = performance.now();
    const all = parts.has("all");
    const spent = (this.timing.parts = {});
    const timed = (name, f) => { const t = performance.now(); f(); spent[name] = performance.now() - t; };
    timed("kept", () => {
      this.kept = this.data.kept();
      this.keptIds = new Set(this.kept.map((r) => r.id));
    });
    if (all || parts.has("status")) this.drawStatus();
    if (all || parts.has("runs") || parts.has("brush") || parts.has("pins")) {
      timed("parallel", () => this.drawParallel());
      timed("history", () => this.drawHistory());
      timed("table", () => this.drawTable());
      this.drawBrushLine();
    }
    if (all || parts.has("curves") || parts.has("pins") || parts.has("runs")) this.drawCurves();
    if (all || parts.has("importance")) this.drawImportance();
    if (all || parts.has("pins") || parts.has("runs")) this.drawPinned();
    this.timing.lastDraw = performance.now() - t0;
    this.timing.draws += 1;
    this.root.dataset.draws = String(this.timing.draws);
    this.root.dataset.runs = String(this.data.runs.length);
    this.root.dataset.state = (this.model.get("status") || {}).state || "";
  }

  // -- status ------------------------------------------------------------------------------
  drawStatus() {
    const status = this.model.get("status") || {};
    this.statusEl.replaceChildren();
    const lines = (status.text || "").split("\n");
    const first = h("div", "sd-status-main");
    const badge = h("span", "sd-badge sd-state-" + (status.state || "").split(" ")[0], status.state || "");
    first.append(badge, document.createTextNode(" " + (lines[0] || "").replace(/ \[[^\]]*\]/, "")));
    this.statusEl.append(first);
    if (status.planned) {
      const bar = h("progress", "sd-progress");
      bar.max = status.planned;
      bar.value = status.done;
      this.statusEl.append(bar);
    }
    for (const line of lines.slice(1, 2)) this.statusEl.append(h("div", "sd-status-best", line));
    if (lines.length > 2) {
      const more = h("pre", "sd-failures", lines.slice(2).join("\n"));
      this.statusEl.append(more);
    }
    const live = ["running", "stopping"].includes(status.state);
    this.stopEl.style.display = this.model.get("stop_button") && live ? "" : "none";
  }

  drawBrushLine() {
    const brush = this.model.get("brush") || {};
    const pinned = this.model.get("pinned") || [];
    this.brushEl.replaceChildren();
    const names = Object.keys(brush);
    if (!names.length && !pinned.length) return;
    const parts = names.map((n) => {
      const rule = brush[n];
      const axis = this.data.axes().find((a) => a.name === n);
      return axis && axis.kind === "categorical" ? `${n} ∈ {${rule.join(", ")}}` : `${fmt(rule[0])} ≤ ${n} ≤ ${fmt(rule[1])}`;
    });
    if (pinned.length) parts.push(`pinned: ${pinned.join(", ")}`);
    this.brushEl.append(document.createTextNode(`keeps ${this.kept.length} of ${this.data.runs.length} runs: ${parts.join(" · ")} `));
    const clear = h("button", "sd-clear", "clear");
    clear.onclick = () => this.setTraits({ brush: {}, pinned: [] });
    this.brushEl.append(clear);
  }

  setTraits(values) {
    for (const [k, v] of Object.entries(values)) this.model.set(k, v);
    this.model.save_changes();
  }

  // -- tooltip -----------------------------------------------------------------------------
  showTip(event, html) {
    this.tip.innerHTML = html;
    this.tip.style.display = "block";
    const pad = 14;
    const w = this.tip.offsetWidth, hgt = this.tip.offsetHeight;
    let x = event.clientX + pad, y = event.clientY + pad;
    if (x + w > window.innerWidth - 4) x = event.clientX - w - pad;
    if (y + hgt > window.innerHeight - 4) y = Math.max(4, event.clientY - hgt - pad);
    this.tip.style.left = x + "px";
    this.tip.style.top = y + "px";
  }
  hideTip() {
    this.tip.style.display = "none";
  }
  runTip(run) {
    const metric = (this.model.get("metric") || {}).name;
    const esc = (s) => String(s).replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);
    const rows = flatten(run.c).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(fmt(v))}</td></tr>`).join("");
    const name = run.name ? ` <span class="sd-muted">${esc(run.name)}</span>` : "";
    const m = metric ? `<div>${esc(metric)} = <b>${run.m === null || run.m === undefined ? "—" : esc(fmt(run.m))}</b></div>` : "";
    const err = run.err ? `<div class="sd-err-line">${esc(run.err.trim().split("\n").pop())}</div>` : "";
    return `<div class="sd-tip-head"><b>run ${esc(run.id)}</b>${name} · #${run.n} · <span style="color:${this.stateColor(run.s)}">${esc(run.s)}</span></div>${m}<table class="sd-tip-config">${rows}</table>${err}<div class="sd-muted">click to pin</div>`;
  }
  togglePin(id) {
    const pinned = [...(this.model.get("pinned") || [])];
    const i = pinned.indexOf(id);
    if (i >= 0) pinned.splice(i, 1);
    else pinned.push(id);
    this.setTraits({ pinned });
  }

  // -- canvas helpers ----------------------------------------------------------------------
  sizeCanvas(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return ctx;
  }
  font(px = 14, weight = "") {
    return `${weight} ${Math.round(px * this.scale)}px ${this.css("--jp-ui-font-family", "system-ui, sans-serif")}`;
  }

  // -- parallel coordinates ----------------------------------------------------------------
  parLayout() {
    const axes = this.data.axes();
    const s = this.scale;
    const width = Math.max(320, this.parEl.body.clientWidth || 900);
    const height = Math.round(300 * s);
    const left = 70 * s, right = 90 * s, top = 44 * s, bottom = 20 * s;
    const n = axes.length;
    const xs = axes.map((_, i) => (n > 1 ? left + (i * (width - left - right)) / (n - 1) : width / 2));
    return { axes, width, height, top, bottom, xs, plotH: height - top - bottom };
  }
  yOf(L, t) {
    return L.top + (1 - t) * L.plotH;
  }
  drawParallel() {
    const L = (this.par = this.parLayout());
    const ctx = this.sizeCanvas(this.pcanvas, L.width, L.height);
    this.psvg.setAttribute("width", L.width);
    this.psvg.setAttribute("height", L.height);
    this.psvg.replaceChildren();
    const fg = this.css("--jp-ui-font-color1", "#222");
    const bg = this.css("--jp-layout-color1", "#fff");
    if (!L.axes.length || !this.data.runs.length) {
      ctx.fillStyle = fg;
      ctx.font = this.font(14);
      ctx.fillText("no runs with values yet", 20, 40);
      return;
    }
    const brush = this.model.get("brush") || {};
    const brushed = Object.keys(brush).length > 0;
    const pinned = new Set(this.model.get("pinned") || []);
    // each run's points, kept for hover and reused until the runs, axes or width change
    const key = `${this.data.version}|${L.width}|${this.scale}|${JSON.stringify(L.axes)}`;
    if (key !== this.parKey) {
      this.parKey = key;
      const pts = (this.parPoints = new Map());
      for (const run of this.data.runs) {
        pts.set(run.id, L.axes.map((a, i) => {
          const t = unit(a, this.data.value(run, a));
          return t === null ? null : [L.xs[i], this.yOf(L, t)];
        }));
      }
    }
    const pts = this.parPoints;
    const trace = (run) => {
      let open = false;
      for (const q of pts.get(run.id)) {
        if (!q) { open = false; continue; }
        if (open) ctx.lineTo(q[0], q[1]);
        else { ctx.moveTo(q[0], q[1]); open = true; }
      }
    };
    const stroke = (runs, color, width, alpha) => {
      if (!runs.length) return;
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      for (const run of runs) trace(run);
      ctx.stroke();
    };
    const line = (run, color, width, alpha) => stroke([run], color, width, alpha);
    const inside = [], outside = [];
    for (const run of this.data.runs) (!brushed || this.data.inBrush(run, brush, L.axes) ? inside : outside).push(run);
    stroke(outside, this.css("--jp-ui-font-color3", "#aaa"), 1, 0.18);
    // one path per colour step, worst first: the best runs are drawn last, on top (a path per
    // line would cost ~10x at 10,000 runs)
    const goal = (this.model.get("metric") || {}).goal;
    const axis = this.metricAxis();
    const STEPS = 24;
    const buckets = Array.from({ length: STEPS }, () => []);
    const none = [];
    for (const run of inside) {
      if (run.m === null || run.m === undefined || !axis) { none.push(run); continue; }
      const t = unit(axis, run.m);
      const good = goal === "maximize" ? t : 1 - t;
      buckets[Math.min(STEPS - 1, Math.max(0, Math.floor(good * STEPS)))].push(run);
    }
    const lw = inside.length > 2000 ? 0.8 : 1.4;
    stroke(none, "#999", lw, 0.35);
    buckets.forEach((runs, i) => stroke(runs, viridis((i + 0.5) / STEPS), lw, 0.75));
    for (const id of pinned) {
      const run = this.data.byId.get(id);
      if (!run) continue;
      line(run, bg, 6, 1);
      line(run, this.css("--sd-pin", "#ff4d00"), 3, 1);
    }
    if (this.hover && this.hover.panel === "parallel") {
      const run = this.data.byId.get(this.hover.id);
      if (run) { line(run, fg, 3.5, 1); }
    }
    ctx.globalAlpha = 1;
    this.drawAxes(L, brush, fg, bg);
  }
  drawAxes(L, brush, fg, bg) {
    const s = this.scale;
    const spacing = L.axes.length > 1 ? L.xs[1] - L.xs[0] : 400;
    L.axes.forEach((axis, i) => {
      const x = L.xs[i];
      const g = svg("g", { class: "sd-axis", "data-axis": axis.name });
      g.append(svg("line", { x1: x, x2: x, y1: L.top, y2: L.top + L.plotH, class: "sd-axis-line" }));
      const title = svg("text", { x, y: 18 * s, class: "sd-axis-name" + (axis.metric ? " sd-metric-name" : ""), "text-anchor": "middle" });
      const label = axis.name + (axis.kind === "log" ? " (log)" : "");
      title.textContent = label.length * 8 * s > spacing - 8 ? label.slice(0, Math.max(4, Math.floor((spacing - 8) / (8 * s)))) + "…" : label;
      const full = svg("title");
      full.textContent = `${axis.name}: ${axis.kind}${axis.metric ? " (the metric)" : ""}; drag along it to brush, click it to clear`;
      title.append(full);
      g.append(title);
      for (const [t, text] of axisTicks(axis)) {
        const y = this.yOf(L, t);
        g.append(svg("line", { x1: axis.metric ? x : x - 4 * s, x2: axis.metric ? x + 4 * s : x, y1: y, y2: y, class: "sd-axis-line" }));
        // a label on a halo of the background: lines passing behind never touch its text
        // the metric's labels right of its axis (in the margin left for them), others left
        const right = axis.metric;
        const label = svg("text", { x: right ? x + 7 * s : x - 7 * s, y: y + 5 * s, "text-anchor": right ? "start" : "end", class: "sd-tick" });
        label.textContent = text;
        g.append(label);
      }
      const rule = brush[axis.name];
      if (rule) {
        let y1, y2;
        if (axis.kind === "categorical") {
          const ts = rule.map((c) => unit(axis, c)).filter((t) => t !== null);
          const pad = axis.categories.length > 1 ? 0.5 / (axis.categories.length - 1) : 0.5;
          y1 = this.yOf(L, Math.min(1, Math.max(...ts) + pad * 0.6));
          y2 = this.yOf(L, Math.max(0, Math.min(...ts) - pad * 0.6));
        } else {
          y1 = this.yOf(L, Math.min(1, Math.max(0, unit(axis, rule[1]))));
          y2 = this.yOf(L, Math.max(0, Math.min(1, unit(axis, rule[0]))));
          if (y2 - y1 < 4) { y1 -= 2; y2 += 2; }
        }
        g.append(svg("rect", { x: x - 9 * s, width: 18 * s, y: y1, height: Math.max(3, y2 - y1), class: "sd-brush" }));
      }
      // a wide transparent hit area: where a drag starts a brush
      g.append(svg("rect", { x: x - 14 * s, width: 28 * s, y: L.top - 8, height: L.plotH + 16, class: "sd-axis-hit" }));
      this.psvg.append(g);
    });
    if (this.drag) {
      const x = L.xs[this.drag.axis];
      const y1 = Math.min(this.drag.y0, this.drag.y1), y2 = Math.max(this.drag.y0, this.drag.y1);
      this.psvg.append(svg("rect", { x: x - 9 * s, width: 18 * s, y: y1, height: y2 - y1, class: "sd-brush sd-dragging" }));
    }
  }
  bindParallel() {
    const local = (e) => {
      const r = this.psvg.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    const nearestAxis = (x) => {
      const L = this.par;
      if (!L) return -1;
      let best = -1, dist = 16 * this.scale;
      L.xs.forEach((ax, i) => { if (Math.abs(ax - x) < dist) { dist = Math.abs(ax - x); best = i; } });
      return best;
    };
    this.psvg.addEventListener("mousedown", (e) => {
      const [x, y] = local(e);
      const axis = nearestAxis(x);
      if (axis < 0) return;
      e.preventDefault();
      this.drag = { axis, y0: y, y1: y };
      const move = (ev) => {
        this.drag.y1 = local(ev)[1];
        this.drawParallel();
      };
      const up = (ev) => {
        window.removeEventListener("mousemove", move);
        window.removeEventListener("mouseup", up);
        const d = this.drag;
        this.drag = null;
        d.y1 = local(ev)[1];
        this.brushAxis(d);
      };
      window.addEventListener("mousemove", move);
      window.addEventListener("mouseup", up);
    });
    this.psvg.addEventListener("mousemove", (e) => {
      if (this.drag) return;
      const [x, y] = local(e);
      const run = this.nearestLine(x, y);
      const id = run ? run.id : null;
      if ((this.hover && this.hover.id) !== id) {
        this.hover = id ? { panel: "parallel", id } : null;
        this.drawParallel();
      }
      if (run) this.showTip(e, this.runTip(run));
      else this.hideTip();
    });
    this.psvg.addEventListener("mouseleave", () => {
      this.hideTip();
      if (this.hover) { this.hover = null; this.drawParallel(); }
    });
    this.psvg.addEventListener("click", (e) => {
      const [x, y] = local(e);
      if (nearestAxis(x) >= 0) return; // a click on an axis is a brush gesture
      const run = this.nearestLine(x, y);
      if (run) this.togglePin(run.id);
    });
  }
  nearestLine(x, y) {
    const L = this.par;
    if (!L || !this.parPoints || L.xs.length < 2) return null;
    let seg = -1;
    for (let i = 0; i < L.xs.length - 1; i++) if (x >= L.xs[i] && x <= L.xs[i + 1]) seg = i;
    if (seg < 0) return null;
    const f = (x - L.xs[seg]) / (L.xs[seg + 1] - L.xs[seg]);
    let best = null, dist = 6 * this.scale;
    const candidates = this.kept.length ? this.kept : this.data.runs;
    for (const run of candidates) {
      const p = this.parPoints.get(run.id);
      if (!p || !p[seg] || !p[seg + 1]) continue;
      const yy = p[seg][1] + f * (p[seg + 1][1] - p[seg][1]);
      const d = Math.abs(yy - y);
      if (d < dist) { dist = d; best = run; }
    }
    return best;
  }
  brushAxis(d) {
    const t0 = performance.now();
    const L = this.par;
    const axis = L.axes[d.axis];
    const brush = { ...(this.model.get("brush") || {}) };
    if (Math.abs(d.y1 - d.y0) < 4) {
      delete brush[axis.name]; // a click on the axis clears it
    } else {
      const tOf = (y) => Math.max(0, Math.min(1, 1 - (y - L.top) / L.plotH));
      const ta = tOf(Math.max(d.y0, d.y1)), tb = tOf(Math.min(d.y0, d.y1));
      if (axis.kind === "categorical") {
        let cats = axis.categories.filter((c) => { const t = unit(axis, c); return t >= ta && t <= tb; });
        if (!cats.length) {
          const mid = (ta + tb) / 2;
          cats = [axis.categories.reduce((a, c) => (Math.abs(unit(axis, c) - mid) < Math.abs(unit(axis, a) - mid) ? c : a))];
        }
        brush[axis.name] = cats;
      } else if (axis.lo !== null) {
        brush[axis.name] = [fromUnit(axis, ta), fromUnit(axis, tb)];
      }
    }
    this.setTraits({ brush });
    this.draw(new Set(["brush"]));
    this.timing.lastBrush = performance.now() - t0;
  }
  // where a run's line crosses an axis, in page coordinates (tests hover and click there)
  linePoint(id, axisIndex) {
    const p = this.parPoints && this.parPoints.get(id);
    if (!p) return null;
    const L = this.par;
    const r = this.psvg.getBoundingClientRect();
    let i = axisIndex === undefined ? 0 : axisIndex;
    if (!p[i] || !p[i + 1]) return null;
    return { x: r.left + (p[i][0] + p[i + 1][0]) / 2, y: r.top + (p[i][1] + p[i + 1][1]) / 2 };
  }
  axisPoint(name, value) {
    const L = this.par;
    const i = L.axes.findIndex((a) => a.name === name);
    const t = unit(L.axes[i], value);
    const r = this.psvg.getBoundingClientRect();
    return { x: r.left + L.xs[i], y: r.top + this.yOf(L, t) };
  }

  // -- metric per run ----------------------------------------------------------------------
  drawHistory() {
    const s = this.scale;
    const width = Math.max(280, this.historyEl.body.clientWidth || 450);
    const height = Math.round(260 * s);
    const ctx = this.sizeCanvas(this.hcanvas, width, height);
    const fg = this.css("--jp-ui-font-color1", "#222");
    const muted = this.css("--jp-ui-font-color2", "#666");
    const axis = this.metricAxis();
    const runs = this.data.runs;
    const L = (this.hist = { left: 70 * s, right: 12 * s, top: 12 * s, bottom: 44 * s, width, height });
    L.w = width - L.left - L.right;
    L.h = height - L.top - L.bottom;
    ctx.font = this.font(14);
    ctx.fillStyle = fg;
    const withMetric = runs.filter((r) => r.m !== null && r.m !== undefined);
    if (!axis || !withMetric.length) {
      ctx.fillText(axis ? "no run has logged the metric yet" : "the sweep has no metric", 20, 40);
      this.histPoints = [];
      this.legend(this.historyEl, []);
      return;
    }
    const n = Math.max(1, runs.length ? runs[runs.length - 1].n : 1);
    const lo = axis.lo, hi = axis.hi > axis.lo ? axis.hi : axis.lo + 1;
    const X = (k) => L.left + (n > 1 ? ((k - 1) / (n - 1)) * L.w : L.w / 2);
    const Y = (v) => L.top + (1 - (v - lo) / (hi - lo)) * L.h;
    L.X = X; L.Y = Y;
    // axes and ticks
    ctx.strokeStyle = muted;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(L.left, L.top); ctx.lineTo(L.left, L.top + L.h); ctx.lineTo(L.left + L.w, L.top + L.h);
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of niceTicks(lo, hi, 4)) {
      ctx.fillText(fmt(t), L.left - 6 * s, Y(t));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of niceTicks(1, n, 5).filter((t) => Number.isInteger(t))) ctx.fillText(String(t), X(t), L.top + L.h + 4 * s);
    ctx.fillText("run number", L.left + L.w / 2, L.top + L.h + 22 * s);
    // best so far
    const goal = (this.model.get("metric") || {}).goal;
    const better = (a, b) => (goal === "maximize" ? a > b : a < b);
    ctx.strokeStyle = this.css("--sd-best", "#ff7f0e");
    ctx.lineWidth = 2;
    ctx.beginPath();
    let best = null;
    for (const r of runs) {
      if (r.m === null || r.m === undefined) continue;
      if (best === null) { best = r.m; ctx.moveTo(X(r.n), Y(best)); continue; }
      if (better(r.m, best)) { ctx.lineTo(X(r.n), Y(best)); best = r.m; ctx.lineTo(X(r.n), Y(best)); }
    }
    if (best !== null) ctx.lineTo(X(n), Y(best));
    ctx.stroke();
    const rad = (withMetric.length > 2000 ? 2 : 3.5) * s;
    const pinned = new Set(this.model.get("pinned") || []);
    const pts = (this.histPoints = []);
    const groups = new Map(); // one path per state and kept-or-not
    for (const r of withMetric) {
      const x = X(r.n), y = Y(r.m);
      pts.push([x, y, r]);
      const g = r.s + "|" + this.keptIds.has(r.id);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push([x, y]);
    }
    for (const [g, points] of groups) {
      const [state, kept] = g.split("|");
      ctx.globalAlpha = kept === "true" ? 0.9 : 0.15;
      ctx.fillStyle = this.stateColor(state);
      ctx.beginPath();
      for (const [x, y] of points) { ctx.moveTo(x + rad, y); ctx.arc(x, y, rad, 0, 2 * Math.PI); }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    for (const [x, y, r] of pts) {
      if (!pinned.has(r.id) && !(this.hover && this.hover.id === r.id)) continue;
      ctx.strokeStyle = pinned.has(r.id) ? this.css("--sd-pin", "#ff4d00") : fg;
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.arc(x, y, rad + 3 * s, 0, 2 * Math.PI);
      ctx.stroke();
    }
    const states = [...new Set(withMetric.map((r) => r.s))];
    this.legend(this.historyEl, [...states.map((st) => [st, this.stateColor(st)]), ["best so far", this.css("--sd-best", "#ff7f0e")]]);
  }
  legend(panel, items) {
    let el = panel.box.querySelector(".sd-legend");
    if (!el) { el = h("div", "sd-legend"); panel.box.append(el); }
    el.replaceChildren(...items.map(([name, color]) => {
      const item = h("span", "sd-legend-item");
      const dot = h("span", "sd-dot");
      dot.style.background = color;
      item.append(dot, document.createTextNode(name));
      return item;
    }));
  }
  bindHistory() {
    const near = (e) => {
      const r = this.hcanvas.getBoundingClientRect();
      const x = e.clientX - r.left, y = e.clientY - r.top;
      let best = null, dist = 10 * this.scale;
      for (const [px, py, run] of this.histPoints || []) {
        const d = Math.hypot(px - x, py - y);
        if (d < dist) { dist = d; best = run; }
      }
      return best;
    };
    this.hcanvas.addEventListener("mousemove", (e) => {
      const run = near(e);
      const id = run ? run.id : null;
      if ((this.hover && this.hover.id) !== id) { this.hover = id ? { panel: "history", id } : null; this.drawHistory(); }
      if (run) this.showTip(e, this.runTip(run));
      else this.hideTip();
    });
    this.hcanvas.addEventListener("mouseleave", () => { this.hideTip(); if (this.hover) { this.hover = null; this.drawHistory(); } });
    this.hcanvas.addEventListener("click", (e) => { const run = near(e); if (run) this.togglePin(run.id); });
  }
  historyPoint(id) {
    const p = (this.histPoints || []).find((q) => q[2].id === id);
    if (!p) return null;
    const r = this.hcanvas.getBoundingClientRect();
    return { x: r.left + p[0], y: r.top + p[1] };
  }

  // -- learning curves ---------------------------------------------------------------------
  drawCurves() {
    const body = this.curvesEl.body;
    body.replaceChildren();
    const data = this.model.get("curves") || {};
    const curves = data.curves || [];
    const s = this.scale;
    const width = Math.max(280, body.clientWidth || 450), height = Math.round(260 * s);
    const root = svg("svg", { width, height, class: "sd-curves-svg" });
    body.append(root);
    const withSteps = curves.filter((c) => c.x.length > 0);
    if (!withSteps.length) {
      const t = svg("text", { x: 20, y: 40, class: "sd-label" });
      t.textContent = "no learning curve yet";
      root.append(t);
      this.legend(this.curvesEl, []);
      return;
    }
    const L = { left: 70 * s, right: 12 * s, top: 12 * s, bottom: 44 * s };
    const w = width - L.left - L.right, hh = height - L.top - L.bottom;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const c of withSteps) for (let i = 0; i < c.x.length; i++) {
      x0 = Math.min(x0, c.x[i]); x1 = Math.max(x1, c.x[i]); y0 = Math.min(y0, c.y[i]); y1 = Math.max(y1, c.y[i]);
    }
    if (!(x1 > x0)) x1 = x0 + 1;
    if (!(y1 > y0)) y1 = y0 + 1;
    const X = (v) => L.left + ((v - x0) / (x1 - x0)) * w;
    const Y = (v) => L.top + (1 - (v - y0) / (y1 - y0)) * hh;
    root.append(svg("path", { d: `M${L.left},${L.top}V${L.top + hh}H${L.left + w}`, class: "sd-frame" }));
    for (const t of niceTicks(y0, y1, 4)) {
      const tx = svg("text", { x: L.left - 6 * s, y: Y(t) + 5 * s, "text-anchor": "end", class: "sd-label" });
      tx.textContent = fmt(t);
      root.append(tx);
    }
    for (const t of niceTicks(x0, x1, 5)) {
      const tx = svg("text", { x: X(t), y: L.top + hh + 18 * s, "text-anchor": "middle", class: "sd-label" });
      tx.textContent = fmt(t);
      root.append(tx);
    }
    const xl = svg("text", { x: L.left + w / 2, y: height - 6 * s, "text-anchor": "middle", class: "sd-label" });
    xl.textContent = data.xlabel || "step";
    root.append(xl);
    // the stopping rule's checkpoints (hyperband bands) and the thresholds it applied there
    for (const b of data.bands || []) {
      if (b < x0 || b > x1) continue;
      root.append(svg("line", { x1: X(b), x2: X(b), y1: L.top, y2: L.top + hh, class: "sd-band" }));
      const tx = svg("text", { x: X(b) + 3, y: L.top + 14 * s, class: "sd-label sd-band-label" });
      tx.textContent = `checkpoint ${fmt(b)}`;
      root.append(tx);
    }
    for (const [b, th] of data.thresholds || []) {
      if (b < x0 || b > x1 || th < y0 || th > y1) continue;
      const mark = svg("line", { x1: X(b) - 10 * s, x2: X(b) + 10 * s, y1: Y(th), y2: Y(th), class: "sd-threshold" });
      const tt = svg("title");
      tt.textContent = `at ${fmt(b)} the rule stopped runs worse than ${fmt(th)}`;
      mark.append(tt);
      root.append(mark);
    }
    const pinned = new Set(this.model.get("pinned") || []);
    const order = [...withSteps].sort((a, b) => (pinned.has(a.id) ? 1 : 0) - (pinned.has(b.id) ? 1 : 0));
    this.curvePaths = new Map();
    for (const c of order) {
      const d = c.x.map((x, i) => `${i ? "L" : "M"}${X(x).toFixed(1)},${Y(c.y[i]).toFixed(1)}`).join("");
      const isPinned = pinned.has(c.id);
      const color = isPinned ? this.css("--sd-pin", "#ff4d00") : this.stateColor(c.s);
      const path = svg("path", { d, class: "sd-curve" + (isPinned ? " sd-curve-pinned" : ""), stroke: color, "data-run": c.id });
      if (pinned.size && !isPinned) path.setAttribute("opacity", "0.25");
      const hit = svg("path", { d, class: "sd-curve-hit", "data-run": c.id });
      root.append(path, hit);
      if (c.x.length === 1) root.append(svg("circle", { cx: X(c.x[0]), cy: Y(c.y[0]), r: 3 * s, fill: color }));
      if (c.s === "stopped") {
        const ex = X(c.x[c.x.length - 1]), ey = Y(c.y[c.y.length - 1]), k = 4 * s;
        const cross = svg("path", { d: `M${ex - k},${ey - k}L${ex + k},${ey + k}M${ex - k},${ey + k}L${ex + k},${ey - k}`, class: "sd-stop-mark" });
        root.append(cross);
      }
      this.curvePaths.set(c.id, hit);
      const run = () => this.data.byId.get(c.id);
      hit.addEventListener("mousemove", (e) => {
        const r = run();
        const why = c.stop && c.stop.message ? `<div class="sd-muted">stopped: ${c.stop.message}</div>` : "";
        if (r) this.showTip(e, this.runTip(r) + why);
      });
      hit.addEventListener("mouseleave", () => this.hideTip());
      hit.addEventListener("click", () => this.togglePin(c.id));
    }
    const states = [...new Set(withSteps.map((c) => c.s))];
    const items = states.map((st) => [st === "stopped" ? "stopped early (✕ where)" : st, this.stateColor(st)]);
    if (pinned.size && withSteps.some((c) => pinned.has(c.id))) items.push(["pinned", this.css("--sd-pin", "#ff4d00")]);
    this.legend(this.curvesEl, items);
    this.curvesEl.title.textContent = `learning curves (${withSteps.length} of ${data.n_total || withSteps.length} runs: running and best)`;
  }

  // -- importance --------------------------------------------------------------------------
  drawImportance() {
    const body = this.impEl.body;
    body.replaceChildren();
    const imp = this.model.get("importance") || {};
    const names = imp.names || [];
    if (!names.length) {
      body.append(h("div", "sd-muted", "importance appears once runs have ended"));
      return;
    }
    const table = h("table", "sd-imp");
    const head = h("tr");
    head.append(h("th", "", "parameter"), h("th", "", "importance"), h("th", "", "correlation"));
    table.append(head);
    names.forEach((name, i) => {
      const tr = h("tr", "sd-imp-row");
      tr.dataset.param = name;
      const v = imp.importance[i], r = imp.correlation[i];
      const bar = h("div", "sd-bar");
      const fill = h("div", "sd-bar-fill");
      fill.style.width = v === null ? "0" : `${Math.round(v * 100)}%`;
      bar.append(fill);
      const vt = h("span", "sd-bar-text", v === null ? "—" : `${Math.round(v * 100)}%`);
      const cell1 = h("td");
      cell1.append(bar, vt);
      const cbar = h("div", "sd-cbar");
      const cfill = h("div", "sd-cbar-fill " + (r > 0 ? "sd-pos" : "sd-neg"));
      if (r !== null) {
        cfill.style.width = `${Math.abs(r) * 50}%`;
        cfill.style.left = r > 0 ? "50%" : `${50 - Math.abs(r) * 50}%`;
      }
      cbar.append(cfill);
      const cell2 = h("td");
      cell2.append(cbar, h("span", "sd-bar-text", r === null ? "—" : (r > 0 ? "+" : "") + r.toFixed(2)));
      tr.append(h("td", "sd-imp-name", imp.labels && imp.labels[i] && imp.labels[i] !== name ? `${name} (${imp.labels[i]})` : name), cell1, cell2);
      const sentence = (imp.sentences || [])[i] || "";
      tr.addEventListener("mousemove", (e) => this.showTip(e, `<div class="sd-sentence">${sentence}</div>`));
      tr.addEventListener("mouseleave", () => this.hideTip());
      table.append(tr);
    });
    body.append(table);
    const note = imp.n_runs < imp.min_runs ? ` — ${imp.n_runs} of ${imp.min_runs} runs needed` : ` — from ${imp.n_runs} ended runs`;
    this.impEl.title.textContent = "parameter importance · correlation" + note;
  }

  // -- pinned run --------------------------------------------------------------------------
  drawPinned() {
    const body = this.pinEl.body;
    body.replaceChildren();
    const pinned = this.model.get("pinned") || [];
    const runs = pinned.map((id) => this.data.byId.get(id)).filter(Boolean);
    if (!runs.length) {
      body.append(h("div", "sd-muted", "Click a run (a line, a point, a curve or a table row) to pin it here: its config, summary, error and the command to re-run it."));
      return;
    }
    const run = runs[runs.length - 1];
    const metric = (this.model.get("metric") || {}).name;
    const head = h("div", "sd-pin-head");
    const st = h("span", "sd-state", run.s);
    st.style.color = this.stateColor(run.s);
    head.append(h("b", "", `run ${run.id}`), document.createTextNode(run.name ? ` ${run.name} · ` : " · "), st);
    if (metric) head.append(document.createTextNode(` · ${metric} = ${run.m === null || run.m === undefined ? "—" : fmt(run.m)}`));
    const unpin = h("button", "sd-clear", "unpin");
    unpin.onclick = () => this.togglePin(run.id);
    head.append(document.createTextNode(" "), unpin);
    body.append(head);
    if (runs.length > 1) body.append(h("div", "sd-muted", `${runs.length} pinned: ${pinned.join(", ")}`));
    if (run.err) {
      body.append(h("div", "sd-sub", "error"));
      body.append(h("pre", "sd-error", run.err.trim()));
    }
    if (run.why) body.append(h("div", "sd-muted", "stopped early: " + run.why));
    const kv = (title, obj) => {
      const items = flatten(obj);
      if (!items.length) return;
      body.append(h("div", "sd-sub", title));
      const t = h("table", "sd-kv");
      for (const [k, v] of items) {
        const tr = h("tr");
        tr.append(h("td", "", k), h("td", "", fmt(v)));
        t.append(tr);
      }
      body.append(t);
    };
    kv("config", run.c);
    kv("summary", run.sum);
    body.append(h("div", "sd-sub", "re-run it"));
    const pre = h("pre", "sd-cmd", run.cmd || "");
    body.append(pre);
    const copy = h("button", "sd-clear", "copy");
    copy.onclick = () => navigator.clipboard && navigator.clipboard.writeText(run.cmd || "");
    body.append(copy);
  }

  // -- runs table --------------------------------------------------------------------------
  columns() {
    const metric = (this.model.get("metric") || {}).name;
    const cols = [
      { key: "n", label: "#", get: (r) => r.n },
      { key: "id", label: "run", get: (r) => r.name || r.id },
      { key: "s", label: "state", get: (r) => r.s },
    ];
    if (metric) cols.push({ key: "m", label: metric, get: (r) => r.m });
    for (const p of this.model.get("params") || []) cols.push({ key: "p:" + p, label: p, get: (r) => r.p[p] });
    cols.push({ key: "rt", label: "runtime (s)", get: (r) => r.rt });
    return cols;
  }
  drawTable() {
    const body = this.tableEl.body;
    body.replaceChildren();
    const cols = this.columns();
    const col = cols.find((c) => c.key === this.sort.key) || cols[0];
    const goal = (this.model.get("metric") || {}).goal;
    const desc = this.sort.desc === null ? col.key === "m" && goal === "maximize" : this.sort.desc;
    const rows = [...this.kept];
    rows.sort((a, b) => {
      const va = col.get(a), vb = col.get(b);
      const na = va === null || va === undefined, nb = vb === null || vb === undefined;
      if (na || nb) return na && nb ? a.n - b.n : na ? 1 : -1; // runs without a value last
      const c = typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb));
      return (desc ? -c : c) || a.n - b.n;
    });
    const table = h("table", "sd-runs");
    const head = h("tr");
    for (const c of cols) {
      const th = h("th", c.key === col.key ? "sd-sorted" : "", c.label + (c.key === col.key ? (desc ? " ▼" : " ▲") : ""));
      th.dataset.key = c.key;
      th.title = "sort by " + c.label;
      th.onclick = () => {
        this.sort = { key: c.key, desc: c.key === col.key ? !desc : false };
        this.drawTable();
      };
      head.append(th);
    }
    table.append(head);
    const pinned = new Set(this.model.get("pinned") || []);
    for (const r of rows.slice(0, TABLE_ROWS)) {
      const tr = h("tr", pinned.has(r.id) ? "sd-pinned-row" : "");
      tr.dataset.run = r.id;
      for (const c of cols) {
        const td = h("td", c.key === "s" ? "sd-state" : "", fmt(c.get(r)));
        if (c.key === "s") td.style.color = this.stateColor(r.s);
        tr.append(td);
      }
      tr.onclick = () => this.togglePin(r.id);
      tr.onmousemove = (e) => this.showTip(e, this.runTip(r));
      tr.onmouseleave = () => this.hideTip();
      table.append(tr);
    }
    const shown = Math.min(rows.length, TABLE_ROWS);
    this.tableEl.title.textContent =
      `runs: ${rows.length} of ${this.data.runs.length}` + (rows.length > shown ? ` (the first ${shown} shown; sort to see others)` : "");
    body.append(table);
  }

  // -- the data arriving ---------------------------------------------------------------------
  async bindBlocks() {
    const refs = this.model.get("blocks") || [];
    this.blockModels = this.blockModels || new Map();
    const jobs = refs.map(async (ref, index) => {
      const id = String(ref).replace(/^IPY_MODEL_/, "");
      if (this.blockModels.get(index) === id) return;
      this.blockModels.set(index, id);
      const child = await this.host.getModel("anywidget:" + id);
      this.data.setBlock(index, child.get("runs"));
      child.on("change:runs", () => {
        this.data.setBlock(index, child.get("runs"));
        this.schedule("runs");
      });
    });
    await Promise.all(jobs);
    this.schedule("runs");
  }
}

async function render({ model, el, host }) {
  const view = new View(model, el, host);
  const on = (names, parts) => model.on(names, () => view.schedule(...parts));
  on("change:status", ["status"]);
  on("change:axes change:params", ["runs"]);
  on("change:brush", ["brush"]);
  on("change:pinned", ["pins"]);
  on("change:curves", ["curves"]);
  on("change:importance", ["importance"]);
  model.on("change:blocks", () => view.bindBlocks());
  view.schedule("all");
  await view.bindBlocks();
  let width = 0;
  const resize = new ResizeObserver(() => {
    const w = view.root.clientWidth;
    if (Math.abs(w - width) > 2) { width = w; view.schedule("all"); }
  });
  resize.observe(view.root);
  return () => resize.disconnect();
}

export default { render };
