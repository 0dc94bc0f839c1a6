/* attn_steps explorer: the stages of attn_steps/attention.py, recomputed in the browser.
 *
 * Each root element [data-attn-explorer] holds its data as JSON (tokens, X,
 * settings, optional fixed weights, captions). Everything after X is computed
 * here, in float64, stage by stage as attention.py does: project, scores,
 * scale (and temperature), softmax with the row maximum subtracted, attend.
 * Random weights are numpy's: default_rng(seed).standard_normal, reproduced
 * below (SeedSequence, PCG64, ziggurat), so seed 1 here is seed 1 in Python.
 *
 * Contract for tests and scripts: root.attnExplorer.state() and .set({...});
 * every matrix cell has data-stage, data-row, data-col; the derivation panel
 * has data-role="provenance" and each term an attribute data-term.
 * No framework, no network. Safe to include several times on one page.
 */
(function () {
  "use strict";
  if (window.AttnExplorer) { window.AttnExplorer.initAll(); return; }

  // ---- numpy's default_rng(seed).standard_normal() ----------------------------

  // SeedSequence(seed).generate_state(4, uint64), as eight uint32 words (low word first).
  function seedState(seed) {
    const words = [];
    for (let s = BigInt(seed); words.length === 0 || s > 0n; s >>= 32n) words.push(Number(s & 0xffffffffn));
    let h = 0x43b0d7e5;
    const hashmix = (v) => {
      v = (v ^ h) >>> 0; h = Math.imul(h, 0x931e8875) >>> 0;
      v = Math.imul(v, h) >>> 0; return (v ^ (v >>> 16)) >>> 0;
    };
    const mix = (x, y) => {
      const r = (Math.imul(0xca01f9dd, x) - Math.imul(0x4973f715, y)) >>> 0;
      return (r ^ (r >>> 16)) >>> 0;
    };
    const pool = [0, 1, 2, 3].map((i) => hashmix(i < words.length ? words[i] : 0));
    for (let s = 0; s < 4; s++) for (let d = 0; d < 4; d++) if (s !== d) pool[d] = mix(pool[d], hashmix(pool[s]));
    for (let s = 4; s < words.length; s++) for (let d = 0; d < 4; d++) pool[d] = mix(pool[d], hashmix(words[s]));
    let hb = 0x8b51f9dd;
    return [0, 1, 2, 3, 4, 5, 6, 7].map((i) => {
      let v = (pool[i % 4] ^ hb) >>> 0; hb = Math.imul(hb, 0x58f38ded) >>> 0;
      v = Math.imul(v, hb) >>> 0; return (v ^ (v >>> 16)) >>> 0;
    });
  }

  const M64 = (1n << 64n) - 1n, M128 = (1n << 128n) - 1n;
  const MULT = 0x2360ed051fc65da44385df649fccf645n;

  // PCG64 (XSL-RR 128/64) seeded as numpy seeds it; returns next_uint64 as a BigInt.
  function pcg64(seed) {
    const w = seedState(seed).map(BigInt);
    const u = (k) => w[2 * k] | (w[2 * k + 1] << 32n);
    const initState = (u(0) << 64n) | u(1), inc = (((u(2) << 64n) | u(3)) << 1n | 1n) & M128;
    let state = 0n;
    const step = () => { state = (state * MULT + inc) & M128; };
    step(); state = (state + initState) & M128; step();
    return () => {
      step();
      const x = ((state >> 64n) ^ state) & M64, rot = state >> 122n;
      return ((x >> rot) | (x << ((64n - rot) & 63n))) & M64;
    };
  }

  // The ziggurat tables of numpy's random_standard_normal (256 layers, r, v), in float64.
  const ZIG_R = 3.6541528853610088, ZIG_V = 0.0049286732339746549;
  const ZIG = (function () {
    const m = 2 ** 52, ki = new Array(256), wi = new Array(256), fi = new Array(256);
    let dn = ZIG_R, tn = dn;
    const q = ZIG_V / Math.exp(-0.5 * dn * dn);
    ki[0] = Math.floor((dn / q) * m); ki[1] = 0;
    wi[0] = q / m; wi[255] = dn / m;
    fi[0] = 1; fi[255] = Math.exp(-0.5 * dn * dn);
    for (let i = 254; i >= 1; i--) {
      dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
      ki[i + 1] = Math.floor((dn / tn) * m);
      tn = dn; fi[i] = Math.exp(-0.5 * dn * dn); wi[i] = dn / m;
    }
    return { ki, wi, fi };
  })();

  function normals(seed) {
    const next = pcg64(seed), out = [];
    const uniform = () => Number(next() >> 11n) * 2 ** -53;
    function draw() {
      for (;;) {
        let r = next();
        const idx = Number(r & 0xffn); r >>= 8n;
        const rabs = Number((r >> 1n) & 0xfffffffffffffn);
        let x = rabs * ZIG.wi[idx];
        if (r & 1n) x = -x;
        if (rabs < ZIG.ki[idx]) return x;
        if (idx === 0) {
          for (;;) {
            const xx = -(1 / ZIG_R) * Math.log1p(-uniform()), yy = -Math.log1p(-uniform());
            if (yy + yy > xx * xx) return (rabs >> 8) & 1 ? -(ZIG_R + xx) : ZIG_R + xx;
          }
        } else if ((ZIG.fi[idx - 1] - ZIG.fi[idx]) * uniform() + ZIG.fi[idx] < Math.exp(-0.5 * x * x)) {
          return x;
        }
      }
    }
    return (n) => { while (out.length < n) out.push(draw()); return out; };
  }

  const streams = new Map();
  // ats.init_weights(d, d_k, seed, std=std): Wq, Wk, Wv from one stream, row-major.
  function initWeights(d, dk, seed, std) {
    if (!streams.has(seed)) streams.set(seed, normals(seed));
    const z = streams.get(seed)(3 * d * dk);
    const take = (k) => Array.from({ length: d }, (_, i) => Array.from({ length: dk }, (_, c) => std * z[k * d * dk + i * dk + c]));
    return { Wq: take(0), Wk: take(1), Wv: take(2) };
  }

  // ---- the stages -------------------------------------------------------------

  function matmul(A, B) {
    const n = A.length, m = B.length, p = B[0].length, C = [];
    for (let i = 0; i < n; i++) {
      const row = new Array(p).fill(0);
      for (let k = 0; k < m; k++) { const a = A[i][k], b = B[k]; for (let j = 0; j < p; j++) row[j] += a * b[j]; }
      C.push(row);
    }
    return C;
  }
  const transpose = (A) => A[0].map((_, j) => A.map((row) => row[j]));

  // One row of the stable softmax, its parts kept for the derivation panel:
  // keys a mask blocks get weight 0, the others exp(s − max) over their sum.
  function softmaxRow(row, ok) {
    const max = Math.max(...row.filter((_, j) => ok[j]));
    const e = row.map((s, j) => (ok[j] ? Math.exp(s - max) : 0));
    const sum = e.reduce((a, b) => a + b, 0);
    return { max, e, sum, w: e.map((v) => v / sum) };
  }
  const allowed = (row, i, mask) => row.map((_, j) => !mask || mask[i][j]);

  function softmax(S, mask) {
    return S.map((row, i) => softmaxRow(row, allowed(row, i, mask)).w);
  }

  function compute(X, W, s, mask) {
    const Q = matmul(X, W.Wq), K = matmul(X, W.Wk), V = matmul(X, W.Wv);
    const scores = matmul(Q, transpose(K));
    const div = (s.scale ? Math.sqrt(Q[0].length) : 1);
    const scaled = scores.map((row) => row.map((v) => v / div / s.temperature));
    const weights = softmax(scaled, mask);
    return { X, Q, K, V, scores, scaled, weights, output: matmul(weights, V) };
  }

  // ---- drawing ------------------------------------------------------------------

  // matplotlib's RdBu_r and Blues, as in ats.heatmap.
  const RDBU = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"];
  const BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"];
  const rgb = (h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
  function ramp(stops, t) {
    const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1), k = Math.min(Math.floor(x), stops.length - 2);
    const a = rgb(stops[k]), b = rgb(stops[k + 1]), f = x - k;
    return a.map((v, i) => Math.round(v + (b[i] - v) * f));
  }
  function colour(v, kind, lim) {
    const c = kind === "prob" ? ramp(BLUES, v) : ramp(RDBU, lim > 0 ? 0.5 + v / (2 * lim) : 0.5);
    const light = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140;
    return `background:rgb(${c.join(",")});color:${light ? "#111" : "#fff"}`;
  }
  const isWhole = (A) => A.every((r) => r.every((v) => Number.isInteger(v)));
  function formatter(A, kind) {
    const minus = (f) => (v) => f(v).replace("-", "−");
    if (isWhole(A)) return minus((v) => String(v));
    if (kind === "prob") return (v) => v.toFixed(2);
    const big = Math.max(...A.flat().map(Math.abs));
    const d = big >= 100 ? 0 : big >= 10 ? 1 : 2;
    return minus((v) => v.toFixed(d));
  }
  const fmt = (v) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3)).replace("-", "−");
  const par = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));  // a factor in a product: 0.5×(−1.2)
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

  const STAGES = ["X", "Q", "K", "V", "scores", "scaled", "weights", "output"];
  const PLAY = [["X"], ["Q"], ["K"], ["V"], ["scores"], ["scaled"], ["weights"], ["output"]];

  class Explorer {
    constructor(root) {
      this.root = root;
      const data = JSON.parse(root.querySelector("script[data-role=explorer-data]").textContent);
      this.data = data;
      this.tokens = data.tokens;
      this.X = data.X;
      this.mask = data.mask || null;
      this.s = Object.assign({}, data.settings);
      this.step = -1;
      this.timer = null;
      this.focus = null;
      this.build();
      this.render();
    }

    // -- public contract --
    state() {
      const st = this.st;
      const copy = (A) => A.map((r) => r.slice());
      const stages = {};
      STAGES.forEach((k) => { stages[k] = copy(st[k]); });
      return { tokens: this.tokens.slice(), settings: Object.assign({}, this.s), stages };
    }

    set(changes) {
      const next = Object.assign({}, this.s);
      for (const [key, v] of Object.entries(changes || {})) {
        if (key === "seed") {
          if (this.fixed()) throw new Error("seed: these weights are fixed (given from Python); choose weights instead");
          if (!Number.isInteger(v) || v < 0) throw new Error(`seed must be a whole number ≥ 0, got ${v}`);
        } else if (key === "d_k") {
          if (this.fixed()) throw new Error("d_k comes from the fixed weights here");
          if (!Number.isInteger(v) || v < 1 || v > this.data.max_d_k) throw new Error(`d_k must be a whole number from 1 to ${this.data.max_d_k}, got ${v}`);
        } else if (key === "temperature") {
          if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new Error(`temperature must be a positive number, got ${v}`);
        } else if (key === "std") {
          if (this.fixed()) throw new Error("std: these weights are fixed (given from Python)");
          if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new Error(`std must be a positive number, got ${v}`);
        } else if (key === "scale") {
          if (typeof v !== "boolean") throw new Error(`scale must be true or false, got ${v}`);
        } else if (key === "query") {
          const i = typeof v === "string" ? this.tokens.indexOf(v) : v;
          if (!Number.isInteger(i) || i < 0 || i >= this.tokens.length) throw new Error(`query must be a token or its index, got ${v}`);
          next.query = i; continue;
        } else if (key === "weights") {
          if (!this.data.weights || !(v in this.data.weights)) throw new Error(`weights must be one of ${Object.keys(this.data.weights || {}).join(", ")}, got ${v}`);
        } else {
          throw new Error(`unknown setting ${key}`);
        }
        next[key] = v;
      }
      this.s = next;
      this.render();
      return this.state();
    }

    fixed() { return Boolean(this.data.weights); }

    weights() {
      if (this.fixed()) return this.data.weights[this.s.weights];
      return initWeights(this.X[0].length, this.s.d_k, this.s.seed, this.s.std);
    }

    // -- building the page once --
    build() {
      const d = this.data, id = this.root.id, s = this.s;
      const stdOptions = [[1, "1（源博客）"], [1 / Math.sqrt(this.X[0].length), `1/√${this.X[0].length}（真实模型的量级）`]];
      const weightsChoice = this.fixed()
        ? `<label>权重 <select data-control="weights">${Object.keys(d.weights).map((k) => `<option${k === s.weights ? " selected" : ""}>${esc(k)}</option>`).join("")}</select></label>`
        : `<label>种子 <input data-control="seed" type="number" min="0" step="1" value="${s.seed}" inputmode="numeric"></label>
           <label>d_k <input data-control="d_k" type="number" min="1" max="${d.max_d_k}" step="1" value="${s.d_k}"></label>
           <label>权重的标准差 <select data-control="std">${stdOptions.map(([v, t]) => `<option value="${v}"${v === s.std ? " selected" : ""}>${t}</option>`).join("")}</select></label>`;
      this.root.innerHTML = `
        <div class="ae-head"><strong>${esc(d.title)}</strong><span class="ae-source">${esc(d.source_short)}</span></div>
        <div class="ae-controls" role="group" aria-label="设置">
          ${weightsChoice}
          <label><input data-control="scale" type="checkbox"${s.scale ? " checked" : ""}> 除以 √d_k</label>
          <label>温度 τ <input data-control="temperature" type="number" min="0.05" max="20" step="0.1" value="${s.temperature}"></label>
          <label>跟随的词 <select data-control="query">${this.tokens.map((t, i) => `<option value="${i}"${i === s.query ? " selected" : ""}>${esc(t)}</option>`).join("")}</select></label>
        </div>
        <div class="ae-play" role="group" aria-label="逐步播放">
          <button type="button" data-play="prev" aria-label="上一步">◀</button>
          <button type="button" data-play="toggle" aria-label="播放">▶ 播放</button>
          <button type="button" data-play="next" aria-label="下一步">▶|</button>
          <span class="ae-caption" data-role="caption" aria-live="polite">${esc(d.intro)}</span>
        </div>
        <div class="ae-body">
          <div class="ae-strip" data-role="strip" tabindex="-1"></div>
          <aside class="ae-prov" data-role="provenance" aria-live="polite" aria-label="这个数从哪里来"></aside>
        </div>`;
      const on = (sel, ev, fn) => this.root.querySelectorAll(sel).forEach((el) => el.addEventListener(ev, fn));
      on("[data-control]", "change", (e) => this.fromControl(e.target));
      on("[data-play]", "click", (e) => this.play(e.currentTarget.dataset.play));
      const strip = this.root.querySelector("[data-role=strip]");
      strip.addEventListener("mouseover", (e) => { const c = e.target.closest("[data-stage]"); if (c) this.explain(c); });
      strip.addEventListener("focusin", (e) => { const c = e.target.closest("[data-stage]"); if (c) this.explain(c); });
      strip.addEventListener("click", (e) => {
        const c = e.target.closest("[data-follow]");
        if (c) this.set({ query: Number(c.dataset.follow) });
      });
      strip.addEventListener("keydown", (e) => this.key(e));
    }

    fromControl(el) {
      const k = el.dataset.control;
      const v = k === "scale" ? el.checked : k === "weights" ? el.value : Number(el.value);
      try {
        this.set({ [k]: v });
        el.removeAttribute("aria-invalid");
      } catch (err) {
        el.setAttribute("aria-invalid", "true");
        this.root.querySelector("[data-role=caption]").textContent = err.message;
      }
    }

    // -- drawing every stage --
    render() {
      const t0 = performance.now();
      const W = this.weights();
      this.W = W;
      this.st = compute(this.X, W, this.s, this.mask);
      const q = this.s.query, st = this.st, n = this.tokens.length;
      const dk = W.Wq[0].length, tau = this.s.temperature;
      const scaleText = (this.s.scale ? "/√d_k" : "") + (tau !== 1 ? "/τ" : "");
      const panels = [
        ["X", "X", this.data.x_note, "signed"],
        ["Q", "Q = X·Wq", "查询", "signed"],
        ["K", "K = X·Wk", "键", "signed"],
        ["V", "V = X·Wv", "值；左列是跟随的词分给每一行的权重", "signed"],
        ["scores", "Q·Kᵀ", "分数", "signed"],
        ["scaled", `Q·Kᵀ${scaleText}`, scaleText ? "缩放后的分数" : "没有缩放", "signed"],
        ["weights", `softmax(Q·Kᵀ${scaleText})`, "每行和为 1", "prob"],
        ["output", "权重·V", "输出", "signed"],
      ];
      const html = panels.map(([name, formula, note, kind]) => {
        const A = st[name], f = formatter(A, kind);
        const lim = Math.max(...A.flat().map(Math.abs));
        const keyCols = name === "scores" || name === "scaled" || name === "weights";
        const colLabels = name === "X" ? A[0].map((_, j) => String(j + 1))
          : keyCols ? this.tokens : A[0].map((_, j) => `${name === "output" ? "z" : name.toLowerCase()}${j + 1}`);
        const rowsFollow = name !== "K" && name !== "V";
        const withWeight = name === "V";
        let body = "";
        for (let i = 0; i < A.length; i++) {
          const hi = (rowsFollow && i === q) ? " ae-row-on" : "";
          const w = st.weights[q][i];
          const lead = withWeight
            ? `<td class="ae-w" style="${colour(w, "prob", 1)}" title="${esc(this.tokens[q])} 分给 ${esc(this.tokens[i])} 的权重">${w.toFixed(2)}</td>` : "";
          body += `<tr class="${hi.trim()}"${withWeight ? ` style="opacity:${(0.35 + 0.65 * Math.min(1, w * 3)).toFixed(2)}"` : ""}>` +
            `<th scope="row" data-follow="${i}" title="跟随「${esc(this.tokens[i])}」">${esc(this.tokens[i])}</th>${lead}` +
            A[i].map((v, j) => {
              const blocked = this.mask && keyCols && !this.mask[i][j];
              return `<td role="gridcell" tabindex="-1" data-stage="${name}" data-row="${i}" data-col="${j}"` +
                ` aria-label="${name} ${esc(this.tokens[i])} ${esc(colLabels[j])}: ${blocked && name !== "scores" ? "挡住" : fmt(v)}"` +
                ` style="${blocked && name !== "scores" ? "" : colour(v, kind, lim)}"${blocked && name !== "scores" ? ' class="ae-blocked"' : ""}>` +
                `${blocked && name === "weights" ? "—" : f(v)}</td>`;
            }).join("") + "</tr>";
        }
        const head = `<tr><th></th>${withWeight ? `<th class="ae-w">w</th>` : ""}${colLabels.map((c) => `<th scope="col">${esc(c)}</th>`).join("")}</tr>`;
        return `<figure class="ae-panel" data-panel="${name}"><figcaption><b>${esc(formula)}</b> <span>${A.length}×${A[0].length}</span><small>${esc(note)}</small></figcaption>` +
          `<table role="grid" aria-label="${esc(formula)}">${head}${body}</table></figure>`;
      }).join("");
      const strip = this.root.querySelector("[data-role=strip]");
      strip.innerHTML = html;
      strip.querySelectorAll("table").forEach((tb) => { const c = tb.querySelector("td[data-stage]"); if (c) c.tabIndex = 0; });
      // keep the controls in step with set() called from a script
      const ctl = (k) => this.root.querySelector(`[data-control=${k}]`);
      if (ctl("query")) ctl("query").value = String(q);
      if (ctl("scale")) ctl("scale").checked = this.s.scale;
      if (ctl("temperature") && Number(ctl("temperature").value) !== tau) ctl("temperature").value = tau;
      if (!this.fixed()) {
        if (Number(ctl("seed").value) !== this.s.seed) ctl("seed").value = this.s.seed;
        if (Number(ctl("d_k").value) !== dk) ctl("d_k").value = dk;
      }
      this.markStep();
      const keep = this.focus && strip.querySelector(`[data-stage=${this.focus[0]}][data-row="${this.focus[1]}"][data-col="${this.focus[2]}"]`);
      this.explain(keep || strip.querySelector(`[data-stage=output][data-row="${q}"][data-col="0"]`));
      this.lastRenderMs = performance.now() - t0;
    }

    // -- where a number comes from --
    explain(cell) {
      const name = cell.dataset.stage, i = Number(cell.dataset.row), j = Number(cell.dataset.col);
      this.focus = [name, i, j];
      this.root.querySelectorAll(".ae-focus").forEach((el) => el.classList.remove("ae-focus"));
      cell.classList.add("ae-focus");
      const st = this.st, W = this.W, tok = this.tokens, value = st[name][i][j];
      const term = (v, text) => `<span class="ae-term" data-term="${v}">${text}</span>`;
      const list = (terms) => `<div class="ae-terms">${terms.join(" + ")}</div>`;
      let h = "";
      if (name === "X") {
        h = `<p>${esc(tok[i])} 的嵌入向量的第 ${j + 1} 个数：${fmt(value)}。</p><p>它不是算出来的：${esc(this.data.source_short)}。</p>`;
      } else if (name === "Q" || name === "K" || name === "V") {
        const Wm = W["W" + name.toLowerCase()];
        const terms = this.X[i].map((x, m) => term(x * Wm[m][j], `${par(x)}×${par(Wm[m][j])}`));
        h = `<p><b>${name}[${esc(tok[i])}, ${j + 1}]</b> = x<sub>${esc(tok[i])}</sub> · W${name.toLowerCase()}[:, ${j + 1}]，逐项相乘再相加：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
      } else if (name === "scores") {
        const terms = st.Q[i].map((a, c) => term(a * st.K[j][c], `${par(a)}×${par(st.K[j][c])}`));
        h = `<p><b>分数[${esc(tok[i])}, ${esc(tok[j])}]</b> = q<sub>${esc(tok[i])}</sub> · k<sub>${esc(tok[j])}</sub>，${st.Q[i].length} 项：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
      } else if (name === "scaled") {
        const dk = st.Q[0].length, tau = this.s.temperature;
        const by = [this.s.scale ? `√${dk} = ${fmt(Math.sqrt(dk))}` : "", tau !== 1 ? `τ = ${fmt(tau)}` : ""].filter(Boolean);
        h = `<p><b>缩放后的分数[${esc(tok[i])}, ${esc(tok[j])}]</b> = ${fmt(st.scores[i][j])}${by.map((b) => ` ÷ ${b}`).join("")} = <b>${fmt(value)}</b></p>` +
          (by.length ? "" : "<p>没有缩放：和分数一样。</p>");
      } else if (name === "weights") {
        const row = st.scaled[i], ok = allowed(row, i, this.mask);
        const { max, e, sum } = softmaxRow(row, ok);
        h = ok[j]
          ? `<p><b>权重[${esc(tok[i])}, ${esc(tok[j])}]</b> = exp(s − max) ÷ 这一行的和</p>` +
            `<p>exp(${fmt(row[j])} − ${par(max)}) = ${fmt(e[j])}</p><p>这一行的 exp(s − max)：</p>` +
            list(e.map((v, c) => (ok[c] ? term(v, `${esc(tok[c])} ${fmt(v)}`) : ""))).replace(/( \+ )+/g, " + ") +
            `<p>= ${fmt(sum)}；${fmt(e[j])} ÷ ${fmt(sum)} = <b>${fmt(value)}</b></p>`
          : `<p>${esc(tok[i])} 不许看 ${esc(tok[j])}：遮挡把这个分数换成 −∞，权重是 0。</p>`;
      } else if (name === "output") {
        const terms = st.weights[i].map((w, r) => term(w * st.V[r][j], `${par(w)}×${par(st.V[r][j])}`));
        h = `<p><b>输出[${esc(tok[i])}, ${j + 1}]</b> = Σ<sub>j</sub> w<sub>${esc(tok[i])},j</sub> · v<sub>j</sub>[${j + 1}]，每个词的值按权重相加：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
      }
      this.root.querySelector("[data-role=provenance]").innerHTML = `<h4>这个数从哪里来</h4>${h}`;
    }

    // -- keyboard: arrows move within a matrix, Enter follows the row's word --
    key(e) {
      const cell = e.target.closest("td[data-stage]");
      if (!cell) return;
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.set({ query: Number(cell.dataset.row) }); this.refocus(); return; }
      if (!moves[e.key]) return;
      e.preventDefault();
      const [di, dj] = moves[e.key], tb = cell.closest("table");
      const next = tb.querySelector(`td[data-row="${Number(cell.dataset.row) + di}"][data-col="${Number(cell.dataset.col) + dj}"]`);
      if (next) { cell.tabIndex = -1; next.tabIndex = 0; next.focus(); }
    }

    refocus() {
      const [name, i, j] = this.focus;
      const c = this.root.querySelector(`[data-stage=${name}][data-row="${i}"][data-col="${j}"]`);
      if (c) { c.tabIndex = 0; c.focus(); }
    }

    // -- playback: one stage at a time, following the chosen word --
    play(what) {
      if (what === "toggle") {
        if (this.timer) return this.stop();
        if (this.step >= PLAY.length - 1) this.step = -1;
        this.advance(1);
        this.timer = setInterval(() => (this.step >= PLAY.length - 1 ? this.stop() : this.advance(1)), this.data.interval_ms);
        this.root.querySelector("[data-play=toggle]").textContent = "❙❙ 暂停";
        return;
      }
      this.stop();
      this.advance(what === "next" ? 1 : -1);
    }

    stop() {
      clearInterval(this.timer); this.timer = null;
      const b = this.root.querySelector("[data-play=toggle]");
      b.textContent = "▶ 播放";
    }

    advance(d) {
      this.step = Math.max(0, Math.min(PLAY.length - 1, this.step + d));
      this.markStep();
    }

    markStep() {
      const strip = this.root.querySelector("[data-role=strip]");
      strip.classList.toggle("ae-playing", this.step >= 0);
      if (this.step < 0) return;
      const names = PLAY[this.step];
      strip.querySelectorAll(".ae-panel").forEach((p) => {
        const k = PLAY.findIndex((g) => g.includes(p.dataset.panel));
        p.classList.toggle("ae-now", names.includes(p.dataset.panel));
        p.classList.toggle("ae-later", k > this.step);
      });
      const now = strip.querySelector(`[data-panel=${names[0]}]`);
      if (now) strip.scrollTo({ left: now.offsetLeft - strip.offsetLeft - 8, behavior: "smooth" });
      const q = this.tokens[this.s.query];
      this.root.querySelector("[data-role=caption]").textContent =
        `第 ${this.step + 1} 步（共 ${PLAY.length} 步）：${this.data.captions[names[0]]}；跟随「${q}」`;
      const cell = strip.querySelector(`[data-stage=${names[0]}][data-row="${this.s.query}"][data-col="0"]`);
      if (cell) this.explain(cell);
    }
  }

  window.AttnExplorer = {
    initAll() {
      document.querySelectorAll("[data-attn-explorer]").forEach((root) => {
        if (!root.attnExplorer) root.attnExplorer = new Explorer(root);
      });
    },
    normals: (seed, n) => normals(seed)(n).slice(0, n),
    initWeights,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => window.AttnExplorer.initAll());
  else window.AttnExplorer.initAll();
})();
