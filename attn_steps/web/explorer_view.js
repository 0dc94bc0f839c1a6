/* attn_steps explorer, the view: state, DOM and events; the numbers come from explorer_math.js.
 *
 * Each root element [data-attn-explorer] holds its data as JSON (tokens, X,
 * settings, optional fixed weights and mask) and the book's table of stages
 * (attn_steps/stages.py: formula, kind, caption, note), the colour stops of
 * each kind and the rule for the colour of written values. Nothing about a
 * stage is spelled here.
 *
 * Contract for tests and scripts: root.attnExplorer.state() (also the stop in view and the live checks,
 * explorer_checks.js) and .set({...}); .restored resolves once a link's view is back (explorer_link.js);
 * every matrix cell has data-stage, data-row, data-col; the derivation panel
 * has data-role="provenance" and each term an attribute data-term.
 * The navigator (data-role="nav") shows one stop of stages at a time (stages
 * sharing stages.py's `stop`, e.g. Q, K and V), opening on the softmax weights;
 * .show(stop) or .show("all") switches, and "全部" shows the whole strip.
 * Columns carry the headings of the book's tables (X: 0, 1, …; Q: q1, q2, …), and a
 * derivation names a column by its heading.
 * Messages for a bad setting, in Chinese, go to data-role="message".
 * Each stage is drawn by stage_view.js (AttnStage) and the navigator by explorer_nav.js
 * (AttnNav), which other widgets share. No framework, no network. Safe to include
 * several times on one page.
 */
(function () {
  "use strict";
  if (window.AttnExplorer) { window.AttnExplorer.initAll(); return; }
  const M = window.AttnMath;

  const S = window.AttnStage, N = window.AttnNav, C = window.AttnControls, esc = S.esc;

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
      this.focus = null;
      this.build();
      this.typing = data.typing && window.AttnTyping ? window.AttnTyping.attach(this) : null;
      this.render();
      this.link = window.AttnExplorerLink ? window.AttnExplorerLink.attach(this) : null;  // a link's view, if any
    }

    // Keep the view in the page's address (explorer_link.js), once the reader has changed something.
    remember() { if (this.link) this.link.remember(); }

    // The sentence the stages start from: its tokens, X, mask, and what the page says X came from.
    useInput(input) {
      this.input = input;
      this.tokens = input.tokens;
      this.X = input.X;
      this.mask = input.mask || null;
      // The stages this explorer shows, in reading order: masked only when there is a mask.
      this.stageRows = this.data.stages.filter((s) => s.name !== "masked" || this.mask);
      this.names = this.stageRows.map((s) => s.name);
      this.stops = N.stopsOf(this.stageRows);
    }

    // A typed sentence (explorer_typing.js) replaces the page's: every stage is recomputed from it.
    setInput(input) {
      this.useInput(input);
      this.settings.query = this.tokens.indexOf("苹果") >= 0 ? this.tokens.indexOf("苹果") : this.tokens.length - 1;
      this.focus = null;
      this.player.reset(this.names.length);
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
    cellStyle(v, kind, lim) { return S.colour(this.data, v, kind, lim); }

    type(text, mode) { return this.typing.type(text, mode); }
    typed() { return this.typing ? this.typing.typed() : null; }
    restore() { this.typing.restore(); }

    // -- public contract --
    state() {
      const copy = (A) => A.map((r) => r.slice());
      const stages = {};
      this.names.forEach((k) => { stages[k] = copy(this.stages[k]); });
      return { tokens: this.tokens.slice(), settings: Object.assign({}, this.settings), stages,
               view: this.view === "all" ? "all" : this.stops[this.view].label,
               checks: window.AttnChecks ? window.AttnChecks.measure(this.stages, this.mask) : null };
    }

    set(changes) {
      const next = Object.assign({}, this.settings);
      const ex = { fixed: this.fixed(), max_d_k: this.data.max_d_k, tokens: this.tokens, weights: this.data.weights };
      for (const [key, v] of Object.entries(changes || {})) next[key] = C.check(key, v, ex);
      this.settings = next;
      this.render();
      return this.state();
    }

    fixed() { return Boolean(this.data.weights); }

    stopOf(name) { return this.stops.findIndex((st) => st.names.includes(name)); }

    // Show one stop (its label, or the name of a stage in it) or "all": the whole strip, scrolling sideways.
    show(which) {
      this.view = N.find(this.stops, which);
      this.layout();
      this.remember();
      return this.view;
    }

    layout() {
      const strip = this.root.querySelector("[data-role=strip]");
      N.apply(this.root, strip, this.stops, this.view);
      const cell = this.focus && strip.querySelector(`[data-stage=${this.focus[0]}][data-row="${this.focus[1]}"][data-col="${this.focus[2]}"]`);
      if (this.view !== "all" && (!cell || cell.closest(".ae-panel").hidden)) this.explainStop();
    }

    // A visible cell of the stop in view: the followed word's row, at its largest weight for key columns.
    explainStop() {
      const strip = this.root.querySelector("[data-role=strip]");
      const name = this.view === "all" ? "weights" : this.stops[this.view].names[0], q = this.settings.query;
      const row = this.stages.weights[q];
      const col = S.KEY_COLUMNS.has(name) ? row.indexOf(Math.max(...row)) : 0;
      const cell = strip.querySelector(`[data-stage=${name}][data-row="${name === "K" || name === "V" ? col : q}"][data-col="${S.KEY_COLUMNS.has(name) ? col : 0}"]`);
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
          <button type="button" data-play="toggle"><span aria-hidden="true">▶</span> 播放</button>
          <button type="button" data-play="next" aria-label="下一步">▶|</button>
          <span class="ae-caption" data-role="caption" aria-live="polite">${esc(d.intro)}</span>
        </div>
        <p class="ae-message" data-role="message" role="alert" hidden></p>
        ${N.html(this.stops)}
        <div class="ae-body">
          <div class="ae-strip" data-role="strip" tabindex="-1"></div>
          <aside class="ae-prov" data-role="provenance" aria-label="这个数从哪里来"></aside>
        </div>
        <p class="ae-sr" data-role="said" aria-live="polite"></p>`;
      const on = (sel, ev, fn) => this.root.querySelectorAll(sel).forEach((el) => el.addEventListener(ev, fn));
      // While typing, an empty or half-typed box ("" or "-") waits; leaving it empty is the error.
      on("[data-control]", "input", (e) => this.fromControl(e.target, false));
      on("[data-control]", "change", (e) => this.fromControl(e.target, true));
      on("[data-control]", "blur", (e) => this.fromControl(e.target, true));
      on("[data-stop]", "click", (e) => { const k = e.currentTarget.dataset.stop; this.player.stop(); this.show(k === "all" ? "all" : this.stops[Number(k)].label); });
      this.player = new C.Player(this.root.querySelector("[data-play=toggle]"), this.data.interval_ms, () => this.markStep());
      this.player.reset(this.names.length);
      on("[data-play]", "click", (e) => this.player.play(e.currentTarget.dataset.play));
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
        if (leaving) this.message(el, `${el.closest("label").textContent.trim()} 这一格是空的：${C.hint(k, this.data.max_d_k)}`);
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

    message(el, text) { C.message(this.root, el, text); }

    // -- drawing every stage --
    render() {
      const t0 = performance.now();
      const W = this.weights(), s = this.settings;
      this.W = W;
      this.stages = M.selfAttention(this.X, W, s, this.mask);
      const q = s.query, dk = W.Wq[0].length, tau = s.temperature;
      const ctx = this.context();
      const html = this.stageRows.map((stage) => S.panelHTML(ctx, stage)).join("");
      const strip = this.root.querySelector("[data-role=strip]");
      strip.innerHTML = html;
      if (window.AttnChecks) window.AttnChecks.attach(strip, this.stages, this.mask);
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
      this.remember();
      this.lastRenderMs = performance.now() - t0;
    }

    // What stage_view.js draws from: this explorer's sentence, weights, stages and settings.
    context() {
      return { data: this.data, tokens: this.tokens, X: this.X, W: this.W, stages: this.stages, settings: this.settings,
               mask: this.mask, x_note: this.input.x_note, source_short: this.input.source_short };
    }

    // One stage to take away (explorer_export.js): {filename, data} as SVG text, a PNG blob or CSV text.
    exportStage(name, format) {
      const stage = this.stageRows.find((st) => st.name === name);
      if (!stage) throw new Error(`没有「${name}」这一步；可选：${this.names.join("、")}`);
      return window.AttnExport.file(S.exportModel(this.context(), stage), format);
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
      const how = S.derivation(this.context(), name, i, j);
      this.root.querySelector("[data-role=provenance]").innerHTML = `<p class="ae-prov-title">这个数从哪里来</p>${how}`;
      this.root.querySelector("[data-role=said]").textContent = S.said(how);  // the line a screen reader reads out
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

    // -- playback (AttnControls.Player): one stage at a time, following the chosen word --
    markStep() {
      const strip = this.root.querySelector("[data-role=strip]");
      const step = this.player.step;
      strip.classList.toggle("ae-playing", step >= 0);
      if (step < 0) return;
      const name = this.names[step];
      strip.querySelectorAll(".ae-panel").forEach((p) => {
        p.classList.toggle("ae-now", p.dataset.panel === name);
        p.classList.toggle("ae-later", this.names.indexOf(p.dataset.panel) > step);
      });
      if (this.view !== "all") { this.view = this.stopOf(name); this.layout(); }
      const now = strip.querySelector(`[data-panel=${name}]`);
      if (now && this.view === "all") strip.scrollTo({ left: now.offsetLeft - strip.offsetLeft - 8, behavior: "smooth" });
      const q = this.tokens[this.settings.query];
      this.root.querySelector("[data-role=caption]").textContent =
        `第 ${step + 1} 步（共 ${this.names.length} 步）：${this.data.captions[name]}；跟随「${q}」`;
      const cell = strip.querySelector(`[data-stage=${name}][data-row="${this.settings.query}"][data-col="0"]`);
      if (cell) this.explain(cell);
    }
  }

  window.AttnExplorer = {
    // One explorer on its <div> (the live widget in Jupyter starts its own: live.js), or every one on the page.
    init(root) { if (!root.attnExplorer) root.attnExplorer = new Explorer(root); },
    initAll() { document.querySelectorAll("[data-attn-explorer]").forEach((root) => window.AttnExplorer.init(root)); },
    // numpy's generator, for tests and scripts (the math lives in window.AttnMath)
    normals: M.normals,
    initWeights: M.initWeights,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => window.AttnExplorer.initAll());
  else window.AttnExplorer.initAll();
})();
