/* attn_steps, the poet's page: type the first characters, watch the model write, revisit any step, open any head,
 * remove heads and write again to compare the two poems.
 *
 * Each root [data-attn-poet] holds its data as JSON (attn_steps/poet_web.py): the
 * configuration, the model_id the page was built with, where the site keeps the
 * weights (_static/attn-poet/), the book's table of stages, the head roles, the
 * measured effect of removing each head, the openings. The weights load only when the
 * reader first writes (poet_files.js). The math is poet_math.js; a step, the poem and
 * the tiles are drawn by poet_steps.js, the two poems compared by poet_compare.js, one
 * head opened by poet_head.js through stage_view.js; what the reader types is checked by
 * poet_input.js, and the poem shown is kept in the page's address by poet_link.js. A refused
 * opening or setting clears the poem before it (its message alone is the answer); a poem that
 * fills the model's context says so (data-role="ended").
 *
 * Contract for tests and scripts: root.attnPoet.run(text, { knock, knock_mode }) resolves
 * to { tokens, ids, probs (every position's next-token probabilities, whole rows),
 * heads[layer][head] (attention weights) }; .generate({ prefix, seed, temperature, top_k,
 * cache, knock, knock_mode }) to the poem (knock: [[layer, head], …], knock_mode "mean" or
 * "zero", as poet.generate); .shown() is the open head's { layer, head, tokens, stages };
 * .step(k, which) shows step k of the poem ("main", or "twin": the intact one beside it).
 * Messages in Chinese go to data-role="message". No network but the site's own files (or, in Jupyter,
 * the kernel's: files.js).
 */
(function () {
  "use strict";
  if (window.AttnPoet) { window.AttnPoet.initAll(); return; }
  const P = window.AttnPoetMath, H = window.AttnPoetHead, St = window.AttnPoetSteps, Cmp = window.AttnPoetCompare;
  const esc = window.AttnStage.esc, siteRoot = window.AttnStage0.siteRoot, In = window.AttnPoetInput, K = window.AttnPoetKeys;

  class PoetPage {  // the page controller: state, DOM and events around poet_math.js (Python's Poet is the model)
    constructor(root) {
      this.root = root;
      this.data = JSON.parse(root.querySelector("script[data-role=poet-data]").textContent);
      this.model = null; this.loading = null; this.job = 0; this.ms = {};
      this.off = new Set();  // "layer,head" of the heads the next poem is written without
      this.poems = {}; this.at = null;  // main (the one written), twin (the intact one beside it); the step shown
      this.build();
      this.link = window.AttnPoetLink ? window.AttnPoetLink.attach(this) : null;  // a link's poem, if any
    }

    build() {
      this.root.innerHTML = St.pageHTML(this.data);
      const q = (sel) => this.root.querySelector(sel);
      this.el = { prefix: q("[data-role=prefix]"), message: q("[data-role=message]"), status: q("[data-role=status]"),
        poem: q("[data-role=poem]"), twin: q("[data-role=twin]"), twinCol: q("[data-role=twin-col]"), title: q("[data-role=main-title]"),
        rhyme: q("[data-role=main-rhyme]"), twinRhyme: q("[data-role=twin-rhyme]"), effects: q("[data-role=effects]"),
        timing: q("[data-role=timing]"), ended: q("[data-role=ended]"), step: q("[data-role=step]"), label: q("[data-role=step-label]"), probs: q("[data-role=probs]"),
        gridLabel: q("[data-role=grid-label]"), grid: q("[data-role=grid]"), head: q("[data-role=head]"), cache: q("[data-role=cache]"),
        mode: q("[data-role=knock_mode]"), prev: q("[data-action=prev]"), next: q("[data-action=next]") };
      this.root.addEventListener("click", (e) => {
        const b = e.target.closest("button");
        if (!b || !this.root.contains(b)) return;
        const a = b.dataset.action;
        if (b.dataset.opening !== undefined) { this.el.prefix.value = b.dataset.opening; this.write(); }
        else if (a === "write") this.write();
        else if (a === "stop") this.stop();
        else if (a === "reset") this.reset();
        else if (a === "close-head") { K.closeHead(this); }
        else if (a === "prev" || a === "next") this.showStep(this.at.k + (a === "prev" ? -1 : 1), this.at.which);
        else if (a === "restore") { this.off.clear(); this.redrawGrid(); }
        else if (b.dataset.knock !== undefined) this.toggle(b.dataset.knock);
        else if (b.dataset.step !== undefined) this.showStep(Number(b.dataset.step), b.closest("[data-role=twin]") ? "twin" : "main");
        else if (b.dataset.cell !== undefined) this.openHead(...b.dataset.cell.split(",").map(Number));
      });
      // On a written character, ← and → walk the steps, the focus following.
      this.root.querySelector(".ap-poems").addEventListener("keydown", (e) => {
        const b = e.target.closest(".ap-ch"), dir = { ArrowLeft: -1, ArrowRight: 1 }[e.key];
        if (!b || !dir) return;
        e.preventDefault();
        const shown = this.showStep(Number(b.dataset.step) + dir, b.closest("[data-role=twin]") ? "twin" : "main");
        const next = shown && this.root.querySelector(".ap-ch.ap-at");
        if (next) next.focus();
      });
      this.el.grid.addEventListener("keydown", (e) => K.gridKey(e, this.el.grid, this.data.config.n_head));
      this.el.prefix.addEventListener("input", () => this.say(this.check(this.el.prefix.value, this.data.max_prefix).error));
      this.el.prefix.addEventListener("keydown", (e) => { if (e.key === "Enter") this.write(); });
    }

    say(text) {
      this.el.message.textContent = text || "";
      this.el.message.hidden = !text;
    }

    // The characters of a text and their ids, or { error } in Chinese (poet_input.js): before the weights are
    // loaded, only the form is checked; after, each character must be in the vocabulary.
    check(text, most) {
      return In.check(text, this.model ? this.index : null, { most, line: most === this.data.max_prefix, known: this.data.config.vocab_size - 4 });
    }

    // The weights, fetched once (poet_files.js), checked against the page.
    load() {
      if (this.model) return Promise.resolve(this.model);
      if (this.loading) return this.loading;
      if (window.AttnFiles.where(this.root) === null) return Promise.reject(new Error(window.AttnFiles.NOWHERE));
      // The poet may write any of its 3,000 characters, most of them absent from the web font the pages
      // carry: on the book's site (its cjk.css is on the page), add the rest of the font as stage 0 does
      // (in Jupyter the live widget has added the whole font already).
      if (document.querySelector('link[href*="_static/cjk.css"]')) window.AttnStage0.addRestFont(siteRoot());
      this.loading = window.AttnPoetFiles.load(this.root, this.data.folder, this.data.model_id, (t) => { this.el.status.textContent = t; })
        .then((model) => {
          this.model = model;
          this.index = new Map(model.vocab.map((t, i) => [t, i]).filter(([, i]) => i > P.UNK));
          return model;
        }).catch((e) => { this.loading = null; throw e; });
      return this.loading;
    }

    // The settings in the boxes, checked; throws a Chinese message.
    settings() {
      const num = (k) => Number(this.root.querySelector(`[data-role=${k}]`).value);
      const knock = [...this.off].map((k) => k.split(",").map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      return Object.assign(this.checked({ temperature: num("temperature"), top_k: num("top_k"), seed: num("seed"), cache: this.el.cache.checked }),
        { knock, knock_mode: this.el.mode.value });
    }

    // The rules of poet.generate's arguments, each broken one told in Chinese (poet_input.js).
    checked(o) { return In.checked(o, this.data.config.vocab_size); }

    // 写诗: check, load if needed, then one character per frame, each step drawn. With heads switched off, the poem
    // is written without them and the intact model writes beside it, same seed, same settings.
    write() {
      let opts;
      try { opts = this.settings(); } catch (e) { this.refuse(e.message); return Promise.resolve(); }
      const first = this.check(this.el.prefix.value, this.data.max_prefix);
      if (first.error) { this.refuse(first.error, first); return Promise.resolve(); }
      this.say(""); this.el.ended.textContent = "";
      const job = ++this.job;
      this.root.dataset.busy = "1";  // until the poem is finished, stopped or refused
      return this.load().then(() => {
        const c = this.check(this.el.prefix.value, this.data.max_prefix);
        if (c.error) { delete this.root.dataset.busy; this.refuse(c.error, c); return; }
        const main = this.newPoem(c, opts), knocked = opts.knock.length > 0;  // a bad knock throws here: nothing written
        const twin = knocked ? this.newPoem(c, Object.assign({}, opts, { knock: [] })) : null;
        this.el.head.hidden = true; this.head = null;
        this.poems = { main, twin }; this.at = null;
        this.showPoem(c.chars, []);
        if (knocked) this.el.twin.innerHTML = this.el.poem.innerHTML;
        this.el.title.hidden = !knocked;
        this.el.title.textContent = knocked ? `去掉 ${opts.knock.map((p) => Cmp.headName(p.join(","))).join("、")}` : "";
        this.el.twinCol.hidden = !knocked;
        this.el.effects.hidden = true;
        let spent = 0, count = 0;
        const tick = () => {
          if (job !== this.job) return;
          const ms = this.advance(main);
          if (ms !== false) { spent += ms; count += 1; this.showStep(main.steps.length - 1, "main"); }
          const twinGrew = twin ? this.advance(twin) !== false : false;
          if (ms === false && !twinGrew) return this.finish(opts, spent, count);
          setTimeout(tick, this.data.delay_ms || 60);
        };
        tick();
      }).catch((e) => { delete this.root.dataset.busy; this.refuse(e.message); });
    }

    // A poem refused: its message, and nothing of the previous poem left under it to be read as this one's
    // (the reader's characters stay, an unknown one marked where it is).
    refuse(message, input) {
      this.clear();
      if (input && input.unknown) this.showPoem(input.chars, input.unknown);
      this.say(message);
    }

    // No poem, no step, no head: the page as it opens (the boxes keep what the reader typed).
    clear() {
      this.stop(); this.poems = {}; this.at = null; this.head = null;
      this.el.poem.innerHTML = ""; this.el.twin.innerHTML = ""; this.el.twinCol.hidden = true;
      this.el.title.hidden = true; this.el.rhyme.textContent = ""; this.el.twinRhyme.textContent = ""; this.el.effects.hidden = true;
      this.el.step.hidden = true; this.el.head.hidden = true; this.el.ended.textContent = "";
    }

    newPoem(c, opts) {
      const w = P.writer(this.model, c.ids, opts);
      return { w, ids: w.ids, given: c.chars.length, steps: [], knock: w.knock, opts };
    }

    // One character more of a poem: its step recorded, the character drawn; the ms the model took for it,
    // or false once the poem is finished.
    advance(poem) {
      if (poem.done) return false;
      const t = poem.ids.length - 1, t0 = performance.now(), out = poem.w.next(), ms = performance.now() - t0;
      if (out === null) { poem.done = true; return false; }
      poem.steps.push(St.record(out, t));
      const box = poem === this.poems.main ? this.el.poem : this.el.twin;
      if (out.id === P.END && box.lastElementChild && box.lastElementChild.tagName === "BR") box.lastElementChild.remove();  // （完） ends the last verse
      box.insertAdjacentHTML("beforeend", St.charHTML(this.model.vocab, out.id, poem.steps.length - 1));
      return ms;
    }

    finish(opts, spent, count) {
      delete this.root.dataset.busy;
      const key = (opts.knock.length ? "knock-" : "") + (opts.cache ? "cache" : "none");
      if (count) this.ms[key] = spent / count;
      const f = (k) => (this.ms[k] !== undefined ? `${this.ms[k].toFixed(1)} ms`
        : `还没量（${k === "cache" ? "勾上" : "取消勾选"}「用 KV 缓存」再写一首，就量出来了）`);
      const knocked = this.ms["knock-cache"] === undefined ? "" : `；去掉头、用缓存 ${f("knock-cache")}`;
      this.el.timing.textContent = `每写一个字：用 KV 缓存 ${f("cache")}，不用缓存 ${f("none")}${knocked}（这台设备上量的）。`;
      this.el.ended.textContent = St.endedText(this.data.config, this.poems, opts);
      this.compare();
      if (this.link) this.link.finished();
    }

    // The rhyme characters of both poems marked, and the measured cost of the removed heads.
    compare() {
      const { main, twin } = this.poems, verse = this.model.verse;
      [[main, this.el.poem, this.el.rhyme], [twin, this.el.twin, this.el.twinRhyme]].forEach(([poem, box, line]) => {
        if (!poem) { line.textContent = ""; return; }
        const marks = Cmp.rhymeMarks(poem.ids.slice(1).map((i) => this.model.vocab[i]).join(""), verse);
        Cmp.mark(box, marks);
        line.innerHTML = Cmp.summaryHTML(marks);
      });
      const html = twin ? Cmp.effectsHTML(this.data.effects, main.opts.knock.map((p) => p.join(",")), main.opts.knock_mode) : "";
      this.el.effects.innerHTML = html;
      this.el.effects.hidden = !html;
    }

    stop() { this.job += 1; delete this.root.dataset.busy; }

    reset() {
      this.clear();
      this.el.prefix.value = "";
      this.say("");
      if (this.link) this.link.remember();
    }

    // The reader's characters before anything is written (unknown ones marked where they are).
    showPoem(chars, unknown) {
      const bad = new Set(unknown);
      this.el.poem.innerHTML = chars.map((ch) => (bad.has(ch) ? `<span class="ap-unknown" title="不在字表里">${esc(ch)}</span>`
        : St.givenHTML(ch))).join("");
      this.el.twin.innerHTML = "";
      this.el.rhyme.textContent = ""; this.el.twinRhyme.textContent = "";
    }

    // Step k of a poem (main or twin): its candidates, every head's row at the character read, the switches.
    showStep(k, which) {
      const poem = this.poems[which];
      if (!poem || !poem.steps.length) return null;
      k = Math.max(0, Math.min(k, poem.steps.length - 1));
      this.at = { which, k };
      if (this.link) this.link.remember();
      const vocab = this.model.vocab, step = poem.steps[k];
      this.el.label.innerHTML = (this.poems.twin ? (which === "twin" ? "完整的模型，" : "去掉头的这首，") : "") + St.label(vocab, poem, k);
      this.el.probs.innerHTML = St.candidatesHTML(vocab, step);
      K.disable(this.el.prev, k === 0, this.el.next);
      K.disable(this.el.next, k === poem.steps.length - 1, this.el.prev);
      // Read out once the poem is written; while it is, the poem itself announces each new character.
      this.el.label.setAttribute("aria-live", this.root.dataset.busy ? "off" : "polite");
      this.root.querySelectorAll(".ap-ch.ap-at").forEach((b) => b.classList.remove("ap-at"));
      const box = which === "twin" ? this.el.twin : this.el.poem, at = box.querySelector(`[data-step="${k}"]`);
      if (at) at.classList.add("ap-at");
      [this.el.poem, this.el.twin].forEach((b) => {  // one Tab stop per poem: its step shown, else its last
        const chars = b.querySelectorAll(".ap-ch"), stop = b.querySelector(".ap-at") || chars[chars.length - 1];
        chars.forEach((c) => { c.tabIndex = c === stop ? 0 : -1; });
      });
      this.redrawGrid();
      this.el.step.hidden = false;
      if (!this.el.head.hidden && this.head && !this.root.dataset.busy) this.openHead(this.head.layer, this.head.head, true);
      return { which, k, t: step.t, id: step.id };
    }

    // The tiles of the step shown: each head's row over the characters read, with its switch.
    redrawGrid() {
      if (!this.at) return;
      const poem = this.poems[this.at.which], step = poem.steps[this.at.k];
      const removed = new Set(poem.opts.knock.map((p) => p.join(",")));
      const reader = step.t === 0 ? "开始符 <s>" : `「${this.model.vocab[poem.ids[step.t]]}」`;
      this.el.gridLabel.textContent = `${reader}这一行：每一层、每个头里它看前面各字的注意力（点一个头看它的每一步；按「去掉」再写一次，比较两首诗）`;
      this.el.grid.innerHTML = St.gridHTML(this.data, H.labels(this.tokensUpTo(poem, step.t + 1)), step.rows, this.off, removed);
      this.el.grid.dataset.position = String(step.t);
    }

    toggle(key) {
      if (this.off.has(key)) this.off.delete(key); else this.off.add(key);
      const b = this.el.grid.querySelector(`[data-knock="${key}"]`);
      this.redrawGrid();
      const again = this.el.grid.querySelector(`[data-knock="${key}"]`);
      if (b && again) again.focus();
    }

    tokensUpTo(poem, n) { return poem.ids.slice(0, n).map((i) => this.model.vocab[i]); }

    // Click on a head: its step-through on the text read up to the step shown (the query is the character read there).
    openHead(layer, head, quiet) {
      const poem = this.poems[this.at.which], t = poem.steps[this.at.k].t, ids = poem.ids.slice(0, t + 1);
      const f = P.forward(this.model, ids, false, poem.knock), role = (this.data.roles[`${layer},${head}`] || []).join("、");
      const removed = Boolean(poem.knock[layer] && poem.knock[layer][head]) && poem.opts.knock_mode;
      this.head = H.show(this.el.head, this.data, this.model, this.tokensUpTo(poem, t + 1), f, layer, head,
        { role, cached: poem.opts.cache, removed });
      if (!quiet) K.arrive(this.el.head, ".ap-head-title");
      return this.head;
    }

    // ---- the script hook -----------------------------------------------------------
    run(text, { knock = [], knock_mode = "mean" } = {}) {
      return this.load().then(() => {
        const c = this.check(text, this.data.config.block_size - 1);
        if (c.error && !c.unknown) throw new Error(c.error);
        const ids = [P.START, ...c.chars.map((ch) => (this.index.has(ch) ? this.index.get(ch) : P.UNK))];
        const r = P.run(this.model, ids, { knock, knock_mode });
        return { tokens: ids.map((i) => this.model.vocab[i]), ids, probs: r.probs,
                 heads: r.heads.map((layer) => layer.map((s) => s.weights)) };
      });
    }

    generate({ prefix = "", seed = 0, temperature = 0.8, top_k = 20, cache = true, knock = [], knock_mode = "mean" } = {}) {
      const opts = this.checked({ seed, temperature, top_k, cache: Boolean(cache), knock, knock_mode });
      return this.load().then(() => {
        const c = this.check(prefix, this.data.config.block_size - 2);
        if (c.error) throw new Error(c.error);
        const w = P.writer(this.model, c.ids, opts);
        while (w.next() !== null);
        return w.ids.slice(1).map((i) => this.model.vocab[i]).join("");
      });
    }
  }

  window.AttnPoet = {
    // One poet on its <div> (the live widget in Jupyter starts its own: live.js), or every one on the page.
    init(root) {
      if (root.attnPoet) return;
      const p = new PoetPage(root);
      root.attnPoet = { run: (t, o) => p.run(t, o), generate: (o) => p.generate(o), write: () => p.write(), shown: () => p.head || null,
                        step: (k, which = "main") => p.showStep(k, which), ms: () => Object.assign({}, p.ms),
                        loaded: () => Boolean(p.model), model: () => p.model };
    },
    initAll() { document.querySelectorAll("[data-attn-poet]").forEach((root) => window.AttnPoet.init(root)); },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => window.AttnPoet.initAll());
  else window.AttnPoet.initAll();
})();
