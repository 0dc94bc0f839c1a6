/* attn_steps explorer, the view: state, DOM and events; the numbers come from explorer_math.js.
 *
 * Each root element [data-attn-explorer] holds its data as JSON (tokens, X,
 * settings, optional fixed weights and mask) and the book's table of stages
 * (attn_steps/stages.py: formula, kind, caption, note), the colour stops of
 * each kind and the rule for the colour of written values. Nothing about a
 * stage is spelled here.
 *
 * Contract for tests and scripts: root.attnExplorer.state() and .set({...});
 * every matrix cell has data-stage, data-row, data-col; the derivation panel
 * has data-role="provenance" and each term an attribute data-term.
 * The navigator (data-role="nav") shows one stop of stages at a time (stages
 * sharing stages.py's `stop`, e.g. Q, K and V), opening on the softmax weights;
 * .show(stop) or .show("all") switches, and "全部" shows the whole strip.
 * Columns carry the headings of the book's tables (X: 0, 1, …; Q: q1, q2, …), and a
 * derivation names a column by its heading.
 * Messages for a bad setting, in Chinese, go to data-role="message".
 * No framework, no network. Safe to include several times on one page.
 */
(function () {
  "use strict";
  if (window.AttnExplorer) { window.AttnExplorer.initAll(); return; }
  const M = window.AttnMath;

  // ---- colours and numbers --------------------------------------------------------

  const rgb = (h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
  function ramp(stops, t) {
    const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1), k = Math.min(Math.floor(x), stops.length - 2);
    const a = rgb(stops[k]), b = rgb(stops[k + 1]), f = x - k;
    return a.map((v, i) => Math.round(v + (b[i] - v) * f));
  }
  // The cell's colour on its kind's scale, and its text colour by stages.TEXT_COLOUR (as ats.heatmap writes it).
  function colours(data, v, kind, lim) {
    const c = ramp(data.colours[kind], kind === "prob" ? v : lim > 0 ? 0.5 + v / (2 * lim) : 0.5);
    const linear = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);  // stages._linear
    const rule = data.text_colour, lum = rule.luminance.reduce((sum, w, i) => sum + w * linear(c[i] / 255), 0);
    return [`rgb(${c.join(",")})`, lum < rule.dark_below ? rule.on_dark : rule.on_light];
  }
  function colour(data, v, kind, lim) {
    const [fill, ink] = colours(data, v, kind, lim);
    return `background:${fill};color:${ink}`;
  }
  const finite = (A) => A.flat().filter(Number.isFinite);
  function formatter(A, kind) {
    const minus = (f) => (v) => f(v).replace("-", "−");
    if (finite(A).every(Number.isInteger)) return minus((v) => String(v));
    if (kind === "prob") return (v) => v.toFixed(2);
    const big = Math.max(...finite(A).map(Math.abs));
    const digits = big >= 100 ? 0 : big >= 10 ? 1 : 2;
    return minus((v) => v.toFixed(digits));
  }
  const fmt = (v) => (v === -Infinity ? "−∞" : (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3)).replace("-", "−"));
  const par = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));  // a factor in a product: 0.5×(−1.2)
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

  // A stage's title for these settings: stages.formula(name, scale, temperature, masked), filled the same way.
  function formulaOf(stage, settings, masked, parts) {
    let divided = (settings.scale ? parts.sqrt_d_k : "") + (settings.temperature !== 1 ? parts.temperature : "");
    if (stage.name === "scaled" && !divided) divided = parts.not_scaled;
    return stage.formula.replace("{scale}", divided).replace("{mask}", masked ? parts.mask : "");
  }

  const KEY_COLUMNS = new Set(["scores", "scaled", "masked", "weights"]);  // one column per key token

  class Explorer {
    constructor(root) {
      this.root = root;
      const data = JSON.parse(root.querySelector("script[data-role=explorer-data]").textContent);
      this.data = data;
      this.original = { tokens: data.tokens, X: data.X, mask: data.mask || null, source_short: data.source_short,
                        x_note: data.x_note };
      this.useInput(this.original);
      this.view = this.stopOf("weights");  // open on the softmax weights: the stage the chapter is about
      this.settings = Object.assign({}, data.settings);
      this.step = -1;
      this.timer = null;
      this.focus = null;
      this.build();
      this.typing = data.typing && window.AttnTyping ? window.AttnTyping.attach(this) : null;
      this.render();
    }

    // The sentence the stages start from: its tokens, X, mask, and what the page says X came from.
    useInput(input) {
      this.input = input;
      this.tokens = input.tokens;
      this.X = input.X;
      this.mask = input.mask || null;
      // The stages this explorer shows, in reading order: masked only when there is a mask.
      this.stageRows = this.data.stages.filter((s) => s.name !== "masked" || this.mask);
      this.names = this.stageRows.map((s) => s.name);
      // The navigator's stops, in reading order: consecutive stages with one `stop` label go together.
      this.stops = [];
      this.stageRows.forEach((s) => {
        const last = this.stops[this.stops.length - 1];
        if (last && last.label === s.stop) last.names.push(s.name);
        else this.stops.push({ label: s.stop, names: [s.name] });
      });
    }

    // A typed sentence (explorer_typing.js) replaces the page's: every stage is recomputed from it.
    setInput(input) {
      this.useInput(input);
      this.settings.query = this.tokens.indexOf("苹果") >= 0 ? this.tokens.indexOf("苹果") : this.tokens.length - 1;
      this.focus = null;
      this.stop();
      this.step = -1;
      this.root.querySelector("[data-control=query]").innerHTML =
        this.tokens.map((t, i) => `<option value="${i}"${i === this.settings.query ? " selected" : ""}>${esc(t)}</option>`).join("");
      this.root.querySelector(".ae-source").textContent = input.source_short;
      this.render();
    }

    restoreInput() {
      this.showTyped(false);
      if (this.input !== this.original) this.setInput(this.original);
    }

    // Chapter 4: while the head reads a typed sentence, the page's strip steps aside.
    showTyped(on) {
      this.root.querySelectorAll(".ae-controls, .ae-play, .ae-nav, .ae-body").forEach((el) => { el.hidden = on; });
    }

    // A cell's style on the explorer's colour scales (for the typed head's table).
    cellStyle(v, kind, lim) { return colour(this.data, v, kind, lim); }

    type(text, mode) { return this.typing.type(text, mode); }
    typed() { return this.typing ? this.typing.typed() : null; }
    restore() { this.typing.restore(); }

    // -- public contract --
    state() {
      const copy = (A) => A.map((r) => r.slice());
      const stages = {};
      this.names.forEach((k) => { stages[k] = copy(this.stages[k]); });
      return { tokens: this.tokens.slice(), settings: Object.assign({}, this.settings), stages };
    }

    set(changes) {
      const next = Object.assign({}, this.settings);
      for (const [key, v] of Object.entries(changes || {})) {
        if (key === "seed") {
          if (this.fixed()) throw new Error("种子 (seed) 在这里不能改：权重是从 Python 给定的，请在「权重」里选");
          if (!Number.isInteger(v) || v < 0) throw new Error(`种子 (seed) 要是 0 或更大的整数，例如 0、1、42；现在是 ${v}`);
        } else if (key === "d_k") {
          if (this.fixed()) throw new Error("d_k 在这里由给定的权重决定，不能改");
          if (!Number.isInteger(v) || v < 1 || v > this.data.max_d_k) throw new Error(`d_k 要是 1 到 ${this.data.max_d_k} 之间的整数；现在是 ${v}`);
        } else if (key === "temperature") {
          if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new Error(`温度 τ (temperature) 要是大于 0 的数，例如 0.5、1、2；现在是 ${v}`);
        } else if (key === "std") {
          if (this.fixed()) throw new Error("权重的标准差 (std) 在这里不能改：权重是从 Python 给定的");
          if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new Error(`权重的标准差 (std) 要是大于 0 的数；现在是 ${v}`);
        } else if (key === "scale") {
          if (typeof v !== "boolean") throw new Error(`是否除以 √d_k (scale) 要是 true 或 false；现在是 ${v}`);
        } else if (key === "query") {
          const i = typeof v === "string" ? this.tokens.indexOf(v) : v;
          if (!Number.isInteger(i) || i < 0 || i >= this.tokens.length) throw new Error(`跟随的词 (query) 要是句中的一个词，或它的序号 0 到 ${this.tokens.length - 1}；现在是 ${v}`);
          next.query = i; continue;
        } else if (key === "weights") {
          if (!this.data.weights || !(v in this.data.weights)) throw new Error(`权重 (weights) 要选 ${Object.keys(this.data.weights || {}).join("、") || "（这里没有可选的权重）"} 之一；现在是 ${v}`);
        } else {
          throw new Error(`没有 ${key} 这个设置；可以改的有 seed、d_k、std、scale、temperature、query、weights`);
        }
        next[key] = v;
      }
      this.settings = next;
      this.render();
      return this.state();
    }

    fixed() { return Boolean(this.data.weights); }

    // The headings of the book's tables: X's columns from 0 (embed), Q/K/V's q1, k1, v1 … (attention.column_labels).
    columnLabels(name, n) {
      if (KEY_COLUMNS.has(name)) return this.tokens;
      return Array.from({ length: n }, (_, j) => (name === "X" ? String(j) : `${name === "output" ? "z" : name.toLowerCase()}${j + 1}`));
    }

    stopOf(name) { return this.stops.findIndex((st) => st.names.includes(name)); }

    // Show one stop (its label, or the name of a stage in it) or "all": the whole strip, scrolling sideways.
    show(which) {
      if (which === "all") this.view = "all";
      else {
        const k = this.stops.findIndex((st) => st.label === which || st.names.includes(which));
        if (k < 0) throw new Error(`没有「${which}」这一步；可选：${this.stops.map((st) => st.label).join("、")}、all`);
        this.view = k;
      }
      this.layout();
      return this.view;
    }

    layout() {
      const all = this.view === "all", strip = this.root.querySelector("[data-role=strip]");
      strip.classList.toggle("ae-all", all);
      strip.querySelectorAll(".ae-panel").forEach((p) => {
        p.hidden = !all && !this.stops[this.view].names.includes(p.dataset.panel);
      });
      this.root.querySelectorAll("[data-stop]").forEach((b) => {
        const on = b.dataset.stop === "all" ? all : !all && Number(b.dataset.stop) === this.view;
        b.setAttribute("aria-pressed", String(on));
      });
      const cell = this.focus && strip.querySelector(`[data-stage=${this.focus[0]}][data-row="${this.focus[1]}"][data-col="${this.focus[2]}"]`);
      if (!all && (!cell || cell.closest(".ae-panel").hidden)) this.explainStop();
    }

    // A visible cell of the stop in view: the followed word's row, at its largest weight for key columns.
    explainStop() {
      const strip = this.root.querySelector("[data-role=strip]");
      const name = this.view === "all" ? "weights" : this.stops[this.view].names[0], q = this.settings.query;
      const row = this.stages.weights[q];
      const col = KEY_COLUMNS.has(name) ? row.indexOf(Math.max(...row)) : 0;
      const cell = strip.querySelector(`[data-stage=${name}][data-row="${name === "K" || name === "V" ? col : q}"][data-col="${KEY_COLUMNS.has(name) ? col : 0}"]`);
      if (cell) this.explain(cell);
    }

    weights() {
      const s = this.settings;
      if (this.fixed()) return this.data.weights[s.weights];
      return M.initWeights(this.X[0].length, s.d_k, s.seed, s.std);
    }
    // -- building the page once --
    build() {
      const d = this.data, s = this.settings;
      const stdOptions = [[1, "1（源博客）"], [1 / Math.sqrt(this.X[0].length), `1/√${this.X[0].length}（真实模型的量级）`]];  // X's width stays for typed sentences
      const weightsChoice = this.fixed()
        ? `<label>权重 <select data-control="weights">${Object.keys(d.weights).map((k) => `<option${k === s.weights ? " selected" : ""}>${esc(k)}</option>`).join("")}</select></label>`
        : `<label>种子 <input data-control="seed" type="number" min="0" step="1" value="${s.seed}" inputmode="numeric"></label>
           <label>d_k <input data-control="d_k" type="number" min="1" max="${d.max_d_k}" step="1" value="${s.d_k}"></label>
           <label>权重的标准差 <select data-control="std">${stdOptions.map(([v, t]) => `<option value="${v}"${v === s.std ? " selected" : ""}>${t}</option>`).join("")}</select></label>`;
      this.root.innerHTML = `
        <div class="ae-head"><strong>${esc(d.title)}</strong><span class="ae-source">${esc(d.source_short)}</span></div>
        ${d.typing ? '<div class="ae-typing" data-role="typing"></div>' : ""}
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
        <p class="ae-message" data-role="message" role="alert" hidden></p>
        <div class="ae-nav" data-role="nav" role="group" aria-label="选一步来看">
          ${this.stops.map((st, k) => `${k ? '<span class="ae-arrow" aria-hidden="true">→</span>' : ""}<button type="button" data-stop="${k}" aria-pressed="false">${esc(st.label)}</button>`).join("")}
          <button type="button" data-stop="all" class="ae-all-button" aria-pressed="false" title="所有步骤排成一行，左右滚动">全部</button>
        </div>
        <div class="ae-body">
          <div class="ae-strip" data-role="strip" tabindex="-1"></div>
          <aside class="ae-prov" data-role="provenance" aria-live="polite" aria-label="这个数从哪里来"></aside>
        </div>`;
      const on = (sel, ev, fn) => this.root.querySelectorAll(sel).forEach((el) => el.addEventListener(ev, fn));
      // While typing, an empty or half-typed box ("" or "-") waits; leaving it empty is the error.
      on("[data-control]", "input", (e) => this.fromControl(e.target, false));
      on("[data-control]", "change", (e) => this.fromControl(e.target, true));
      on("[data-control]", "blur", (e) => this.fromControl(e.target, true));
      on("[data-stop]", "click", (e) => { const k = e.currentTarget.dataset.stop; this.stop(); this.show(k === "all" ? "all" : this.stops[Number(k)].label); });
      on("[data-play]", "click", (e) => this.play(e.currentTarget.dataset.play));
      const strip = this.root.querySelector("[data-role=strip]");
      strip.addEventListener("mouseover", (e) => { const c = e.target.closest("[data-stage]"); if (c) this.explain(c); });
      strip.addEventListener("focusin", (e) => { const c = e.target.closest("[data-stage]"); if (c) this.explain(c); });
      strip.addEventListener("click", (e) => {
        const b = e.target.closest("[data-export]");
        if (b) { this.download(b.dataset.export, b.dataset.format).catch((err) => this.message(b, `下载没有成功：${err.message}`)); return; }
        const c = e.target.closest("[data-follow]");
        if (c) this.set({ query: Number(c.dataset.follow) });
      });
      strip.addEventListener("keydown", (e) => this.key(e));
    }

    fromControl(el, leaving) {
      const k = el.dataset.control, typed = el.type === "number";
      if (typed && el.value.trim() === "") {
        if (leaving) this.message(el, `${el.closest("label").textContent.trim()} 这一格是空的：${this.hint(k)}`);
        return;
      }
      const v = k === "scale" ? el.checked : k === "weights" ? el.value : Number(el.value);
      const current = k === "d_k" ? this.W.Wq[0].length : this.settings[k];
      if (v === current && !el.hasAttribute("aria-invalid")) return;
      try {
        this.set({ [k]: v });
        this.message(el, null);
      } catch (err) {
        this.message(el, err.message);
      }
    }

    hint(k) {
      return { seed: "种子要是 0 或更大的整数，例如 0", d_k: `d_k 要是 1 到 ${this.data.max_d_k} 之间的整数`,
        temperature: "温度要是大于 0 的数，例如 1" }[k] || "请填一个数";
    }

    // A message under the controls for the box el (null: the value is valid, the message goes).
    message(el, text) {
      const box = this.root.querySelector("[data-role=message]");
      if (text === null) {
        el.removeAttribute("aria-invalid");
        if (!this.root.querySelector("[aria-invalid=true]")) { box.hidden = true; box.textContent = ""; }
        return;
      }
      el.setAttribute("aria-invalid", "true");
      box.textContent = text;
      box.hidden = false;
    }

    // -- drawing every stage --
    render() {
      const t0 = performance.now();
      const W = this.weights(), s = this.settings;
      this.W = W;
      this.stages = M.selfAttention(this.X, W, s, this.mask);
      const q = s.query, stages = this.stages, d = this.data;
      const dk = W.Wq[0].length, tau = s.temperature;
      const html = this.stageRows.map((stage) => {
        const { name, kind, A, f, formula, note, lim, colLabels, blocked } = this.panel(stage);
        const rowsFollow = name !== "K" && name !== "V";
        const withWeight = name === "V";
        let body = "";
        for (let i = 0; i < A.length; i++) {
          const rowClass = (rowsFollow && i === q) ? "ae-row-on" : "";
          const w = stages.weights[q][i];
          const lead = withWeight
            ? `<td class="ae-w" style="${colour(d, w, "prob", 1)}" title="${esc(this.tokens[q])} 分给 ${esc(this.tokens[i])} 的权重">${w.toFixed(2)}</td>` : "";
          body += `<tr class="${rowClass}">` +
            `<th scope="row" data-follow="${i}" title="跟随「${esc(this.tokens[i])}」">${esc(this.tokens[i])}</th>${lead}` +
            A[i].map((v, j) => {
              const off = blocked(i, j);
              return `<td role="gridcell" tabindex="-1" data-stage="${name}" data-row="${i}" data-col="${j}"` +
                ` aria-label="${name} ${esc(this.tokens[i])} ${esc(colLabels[j])}: ${off ? "挡住" : fmt(v)}"` +
                ` style="${off ? "" : colour(d, v, kind, lim)}"${off ? ' class="ae-blocked"' : ""}>` +
                `${off ? (name === "weights" ? "—" : "−∞") : f(v)}</td>`;
            }).join("") + "</tr>";
        }
        const head = `<tr><th></th>${withWeight ? `<th class="ae-w">w</th>` : ""}${colLabels.map((c) => `<th scope="col">${esc(c)}</th>`).join("")}</tr>`;
        const take = window.AttnExport ? `<span class="ae-take" role="group" aria-label="下载这一步">${["svg", "png", "csv"].map((fm) =>
          `<button type="button" data-export="${name}" data-format="${fm}" title="下载这一步（${fm.toUpperCase()}）">${fm.toUpperCase()}</button>`).join("")}</span>` : "";
        return `<figure class="ae-panel" data-panel="${name}"><figcaption><b>${esc(formula)}</b> <span>${A.length}×${A[0].length}</span>${take}<small>${esc(note)}</small></figcaption>` +
          `<table role="grid" aria-label="${esc(formula)}">${head}${body}</table></figure>`;
      }).join("");
      const strip = this.root.querySelector("[data-role=strip]");
      strip.innerHTML = html;
      strip.querySelectorAll("table").forEach((tb) => { const c = tb.querySelector("td[data-stage]"); if (c) c.tabIndex = 0; });
      // keep the controls in step with set() called from a script
      const ctl = (k) => this.root.querySelector(`[data-control=${k}]`);
      if (ctl("query")) ctl("query").value = String(q);
      if (ctl("scale")) ctl("scale").checked = s.scale;
      if (ctl("temperature") && Number(ctl("temperature").value) !== tau) ctl("temperature").value = tau;
      if (!this.fixed()) {
        if (Number(ctl("seed").value) !== s.seed) ctl("seed").value = s.seed;
        if (Number(ctl("d_k").value) !== dk) ctl("d_k").value = dk;
      }
      this.markStep();
      const keep = this.focus && strip.querySelector(`[data-stage=${this.focus[0]}][data-row="${this.focus[1]}"][data-col="${this.focus[2]}"]`);
      if (keep) this.explain(keep);
      this.layout();
      if (!keep && this.view === "all") this.explainStop();
      this.lastRenderMs = performance.now() - t0;
    }

    // One stage as drawn: its numbers, how they are written and coloured, its title and column headings.
    panel(stage) {
      const name = stage.name, kind = stage.kind, A = this.stages[name];
      // After the mask, a blocked key is grey: −∞ in the masked scores, weight 0 after the softmax.
      const greyWhenBlocked = name === "masked" || name === "weights";
      return { name, kind, A, f: formatter(A, kind), formula: formulaOf(stage, this.settings, Boolean(this.mask), this.data.formula_parts),
               note: name === "X" ? this.input.x_note : stage.note, lim: Math.max(...finite(A).map(Math.abs)),
               colLabels: this.columnLabels(name, A[0].length),
               blocked: (i, j) => Boolean(greyWhenBlocked && this.mask && !this.mask[i][j]) };
    }

    // One stage to take away (explorer_export.js): {filename, data} as SVG text, a PNG blob or CSV text.
    exportStage(name, format) {
      const stage = this.stageRows.find((st) => st.name === name);
      if (!stage) throw new Error(`没有「${name}」这一步；可选：${this.names.join("、")}`);
      const P = this.panel(stage), E = window.AttnExport;
      const model = { name, title: P.formula, note: P.note, source: this.input.source_short, rowLabels: this.tokens.slice(),
        colLabels: P.colLabels, values: P.A.map((r) => r.slice()),
        texts: P.A.map((r, i) => r.map((v, j) => (P.blocked(i, j) ? (name === "weights" ? "—" : "−∞") : P.f(v)))),
        fills: P.A.map((r, i) => r.map((v, j) => (P.blocked(i, j) ? "" : colours(this.data, v, P.kind, P.lim)[0]))),
        inks: P.A.map((r, i) => r.map((v, j) => (P.blocked(i, j) ? "#424a53" : colours(this.data, v, P.kind, P.lim)[1]))) };
      const filename = E.fileName(name, format);
      if (format === "csv") return Promise.resolve({ filename, data: E.csv(model), type: "text/csv" });
      if (format === "svg") return Promise.resolve({ filename, data: E.svg(model), type: "image/svg+xml" });
      if (format === "png") return E.png(model, { scale: 2 }).then((blob) => ({ filename, data: blob, type: "image/png" }));
      throw new Error(`下载的格式要是 svg、png 或 csv；现在是 ${format}`);
    }

    download(name, format) {
      return this.exportStage(name, format).then(({ filename, data, type }) => window.AttnExport.save(data, filename, type));
    }

    // -- where a number comes from --
    explain(cell) {
      const name = cell.dataset.stage, i = Number(cell.dataset.row), j = Number(cell.dataset.col);
      this.focus = [name, i, j];
      this.root.querySelectorAll(".ae-focus").forEach((el) => el.classList.remove("ae-focus"));
      cell.classList.add("ae-focus");
      const stages = this.stages, W = this.W, tok = this.tokens, value = stages[name][i][j];
      const term = (v, text) => `<span class="ae-term" data-term="${v}">${text}</span>`;
      const list = (terms) => `<div class="ae-terms">${terms.join(" + ")}</div>`;
      let html = "";
      if (name === "X") {
        html = `<p>${esc(tok[i])} 的嵌入向量在第 ${j} 列（X 的列从 0 数起）的数：${fmt(value)}。</p><p>它不是算出来的：${esc(this.input.source_short)}。</p>`;
      } else if (name === "Q" || name === "K" || name === "V") {
        const Wm = W["W" + name.toLowerCase()];
        const terms = this.X[i].map((x, m) => term(x * Wm[m][j], `${par(x)}×${par(Wm[m][j])}`));
        html = `<p><b>${name}[${esc(tok[i])}, ${this.columnLabels(name, j + 1)[j]}]</b> = x<sub>${esc(tok[i])}</sub> · W${name.toLowerCase()}[:, ${this.columnLabels(name, j + 1)[j]}]，逐项相乘再相加：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
      } else if (name === "scores") {
        const terms = stages.Q[i].map((a, c) => term(a * stages.K[j][c], `${par(a)}×${par(stages.K[j][c])}`));
        html = `<p><b>分数[${esc(tok[i])}, ${esc(tok[j])}]</b> = q<sub>${esc(tok[i])}</sub> · k<sub>${esc(tok[j])}</sub>，${stages.Q[i].length} 项：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
      } else if (name === "scaled") {
        const dk = stages.Q[0].length, tau = this.settings.temperature;
        const by = [this.settings.scale ? `√${dk} = ${fmt(Math.sqrt(dk))}` : "", tau !== 1 ? `τ = ${fmt(tau)}` : ""].filter(Boolean);
        html = `<p><b>缩放后的分数[${esc(tok[i])}, ${esc(tok[j])}]</b> = ${fmt(stages.scores[i][j])}${by.map((b) => ` ÷ ${b}`).join("")} = <b>${fmt(value)}</b></p>` +
          (by.length ? "" : "<p>没有缩放：和分数一样。</p>");
      } else if (name === "masked") {
        html = this.mask[i][j]
          ? `<p><b>遮挡后的分数[${esc(tok[i])}, ${esc(tok[j])}]</b> = ${fmt(stages.scaled[i][j])} + 0 = <b>${fmt(value)}</b>：${esc(tok[i])} 可以看 ${esc(tok[j])}。</p>`
          : `<p>${esc(tok[i])} 不许看 ${esc(tok[j])}：遮挡 M 在这里是 −∞，${fmt(stages.scaled[i][j])} + (−∞) = −∞。</p>`;
      } else if (name === "weights") {
        const row = (stages.masked || stages.scaled)[i], seen = row.map(Number.isFinite);
        const { max, e, sum } = M.softmaxRow(row);
        html = seen[j]
          ? `<p><b>权重[${esc(tok[i])}, ${esc(tok[j])}]</b> = exp(s − max) ÷ 这一行的和</p>` +
            `<p>exp(${fmt(row[j])} − ${par(max)}) = ${fmt(e[j])}</p><p>这一行的 exp(s − max)：</p>` +
            list(e.map((v, c) => (seen[c] ? term(v, `${esc(tok[c])} ${fmt(v)}`) : ""))).replace(/( \+ )+/g, " + ") +
            `<p>= ${fmt(sum)}；${fmt(e[j])} ÷ ${fmt(sum)} = <b>${fmt(value)}</b></p>`
          : `<p>${esc(tok[i])} 不许看 ${esc(tok[j])}：遮挡把这个分数换成 −∞，权重是 0。</p>`;
      } else if (name === "output") {
        const terms = stages.weights[i].map((w, r) => term(w * stages.V[r][j], `${par(w)}×${par(stages.V[r][j])}`));
        html = `<p><b>输出[${esc(tok[i])}, z${j + 1}]</b> = Σ<sub>j</sub> w<sub>${esc(tok[i])},j</sub> · v<sub>j</sub>[v${j + 1}]，每个词的值按权重相加：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
      }
      this.root.querySelector("[data-role=provenance]").innerHTML = `<h4>这个数从哪里来</h4>${html}`;
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
        if (this.step >= this.names.length - 1) this.step = -1;
        this.advance(1);
        this.timer = setInterval(() => (this.step >= this.names.length - 1 ? this.stop() : this.advance(1)), this.data.interval_ms);
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
      this.step = Math.max(0, Math.min(this.names.length - 1, this.step + d));
      this.markStep();
    }

    markStep() {
      const strip = this.root.querySelector("[data-role=strip]");
      strip.classList.toggle("ae-playing", this.step >= 0);
      if (this.step < 0) return;
      const name = this.names[this.step];
      strip.querySelectorAll(".ae-panel").forEach((p) => {
        p.classList.toggle("ae-now", p.dataset.panel === name);
        p.classList.toggle("ae-later", this.names.indexOf(p.dataset.panel) > this.step);
      });
      if (this.view !== "all") { this.view = this.stopOf(name); this.layout(); }
      const now = strip.querySelector(`[data-panel=${name}]`);
      if (now && this.view === "all") strip.scrollTo({ left: now.offsetLeft - strip.offsetLeft - 8, behavior: "smooth" });
      const q = this.tokens[this.settings.query];
      this.root.querySelector("[data-role=caption]").textContent =
        `第 ${this.step + 1} 步（共 ${this.names.length} 步）：${this.data.captions[name]}；跟随「${q}」`;
      const cell = strip.querySelector(`[data-stage=${name}][data-row="${this.settings.query}"][data-col="0"]`);
      if (cell) this.explain(cell);
    }
  }

  window.AttnExplorer = {
    initAll() {
      document.querySelectorAll("[data-attn-explorer]").forEach((root) => {
        if (!root.attnExplorer) root.attnExplorer = new Explorer(root);
      });
    },
    // numpy's generator, for tests and scripts (the math lives in window.AttnMath)
    normals: M.normals,
    initWeights: M.initWeights,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => window.AttnExplorer.initAll());
  else window.AttnExplorer.initAll();
})();
