/* attn_steps, the poet's page: type the first characters, watch the model write, open any head at any step.
 *
 * Each root [data-attn-poet] holds its data as JSON (attn_steps/poet_web.py): the
 * configuration, the model_id the page was built with, where the site keeps the
 * weights (_static/attn-poet/), the book's table of stages, the head roles, the
 * openings. The weights load only when the reader first writes, with the bytes
 * counted as they arrive, and are refused if their model_id is another's. The math
 * is poet_math.js; one head is drawn by poet_head.js through stage_view.js.
 *
 * Contract for tests and scripts: root.attnPoet.run(text) resolves to { tokens, ids,
 * probs (every position's next-token probabilities, whole rows), heads[layer][head]
 * (attention weights) }; .generate({ prefix, seed, temperature, top_k, cache }) to the
 * poem; .shown() is the open head's { layer, head, tokens, stages }. Messages in
 * Chinese go to data-role="message". No network but the site's own two files.
 */
(function () {
  "use strict";
  if (window.AttnPoet) { window.AttnPoet.initAll(); return; }
  const P = window.AttnPoetMath, H = window.AttnPoetHead, esc = window.AttnStage.esc, siteRoot = window.AttnStage0.siteRoot;
  const TOP = 10;  // candidates drawn as bars

  // Why a character cannot start a poem, in a few words.
  function kindOf(c) {
    if (/[A-Za-zＡ-Ｚａ-ｚ]/.test(c)) return "字母";
    if (/[0-9０-９]/.test(c)) return "数字";
    if (/\p{Extended_Pictographic}/u.test(c)) return "表情符号";
    if (/[\p{P}\p{S}]/u.test(c)) return "标点或符号";
    if (/\s/.test(c)) return "空格";
    return "字";
  }

  class Poet {
    constructor(root) {
      this.root = root;
      this.data = JSON.parse(root.querySelector("script[data-role=poet-data]").textContent);
      this.model = null; this.loading = null; this.job = 0; this.ms = {};
      this.build();
    }

    build() {
      const d = this.data, s = d.settings, c = d.config;
      this.root.innerHTML = `<div class="ae-head"><b>${esc(d.title)}</b><span class="ae-source">${c.n_layer} 层 × ${c.n_head} 个头，` +
        `每个字 ${c.n_embd} 个数，字表 ${c.vocab_size - 4} 字；权重在第一次写诗时才下载</span></div>` +
        `<div class="ae-controls ap-controls"><label>开头 <input type="text" data-role="prefix" size="9" placeholder="0–${d.max_prefix} 个字" aria-label="诗的开头，0 到 ${d.max_prefix} 个字"></label>` +
        `<span class="ap-openings" role="group" aria-label="名句的开头">${d.openings.map((o) => `<button type="button" data-opening="${esc(o)}">${esc(o)}</button>`).join("")}</span></div>` +
        `<div class="ae-controls ap-controls"><label>温度 <input type="number" data-role="temperature" min="0.05" step="0.1" value="${s.temperature}"></label>` +
        `<label>top-k <input type="number" data-role="top_k" min="1" max="${c.vocab_size}" step="1" value="${s.top_k}"></label>` +
        `<label>种子 <input type="number" data-role="seed" min="0" step="1" value="${s.seed}"></label>` +
        `<label><input type="checkbox" data-role="cache" checked> 用 KV 缓存</label>` +
        `<button type="button" data-action="write" class="ap-write">写诗</button><button type="button" data-action="stop">停</button>` +
        `<button type="button" data-action="reset">重来</button></div>` +
        `<p class="ae-message" data-role="message" role="alert" hidden></p><p class="ap-status" data-role="status" aria-live="polite"></p>` +
        `<div class="ap-poem" data-role="poem" aria-live="polite"></div><p class="ap-timing" data-role="timing"></p>` +
        `<div class="ap-step" data-role="step" hidden><div class="ap-probs" data-role="probs"></div><div class="ap-grid-box">` +
        `<p class="ap-label">这个字在每一层、每个头的注意力（点一个头看它的每一步）</p><div class="ap-grid" data-role="grid"></div></div></div>` +
        `<div class="ap-headview" data-role="head" hidden></div>`;
      const q = (sel) => this.root.querySelector(sel);
      this.el = { prefix: q("[data-role=prefix]"), message: q("[data-role=message]"), status: q("[data-role=status]"),
        poem: q("[data-role=poem]"), timing: q("[data-role=timing]"), step: q("[data-role=step]"), probs: q("[data-role=probs]"),
        grid: q("[data-role=grid]"), head: q("[data-role=head]"), cache: q("[data-role=cache]") };
      this.root.addEventListener("click", (e) => {
        const b = e.target.closest("button, [data-cell]");
        if (!b) return;
        if (b.dataset.opening !== undefined) { this.el.prefix.value = b.dataset.opening; this.write(); }
        else if (b.dataset.action === "write") this.write();
        else if (b.dataset.action === "stop") this.stop();
        else if (b.dataset.action === "reset") this.reset();
        else if (b.dataset.action === "close-head") { this.el.head.hidden = true; this.head = null; }
        else if (b.dataset.cell !== undefined) this.openHead(...b.dataset.cell.split(",").map(Number));
      });
      this.el.prefix.addEventListener("input", () => this.say(this.check(this.el.prefix.value, this.data.max_prefix).error));
      this.el.prefix.addEventListener("keydown", (e) => { if (e.key === "Enter") this.write(); });
    }

    say(text) {
      this.el.message.textContent = text || "";
      this.el.message.hidden = !text;
    }

    // The characters of a text and their ids, or { error } in Chinese. Before the weights are loaded,
    // the vocabulary is unknown: only the form is checked; after, each character must be in it.
    check(text, most) {
      const chars = Array.from(String(text).trim());
      if (chars.length > most) return { chars, error: `最多 ${most} 个字${most === this.data.max_prefix ? "（一句诗）" : ""}；现在有 ${chars.length} 个。` };
      const odd = chars.filter((ch) => kindOf(ch) !== "字" && !"，。".includes(ch));
      if (odd.length) return { chars, error: `小诗人只认识汉字和，。：${[...new Set(odd)].map((ch) => `「${ch}」是${kindOf(ch)}`).join("，")}。请删掉它。` };
      if (chars.length && chars.every((ch) => "，。".includes(ch))) return { chars, error: "只有标点：请写至少一个汉字，或者留空让它从头写。" };
      if (!this.model) return { chars };
      const index = this.index, unknown = chars.filter((ch) => !index.has(ch));
      if (unknown.length) return { chars, unknown, error: `${[...new Set(unknown)].map((ch) => `「${ch}」`).join("")}不在小诗人认识的 ${this.data.config.vocab_size - 4} 个字里，它没法从这里接着写：请换一个字。` };
      return { chars, ids: [P.START, ...chars.map((ch) => index.get(ch))] };
    }

    // The weights, fetched once (the manifest, then the bytes with a running count), checked against the page.
    load() {
      if (this.model) return Promise.resolve(this.model);
      if (this.loading) return this.loading;
      const root = siteRoot(), status = this.el.status;
      if (root === null) return Promise.reject(new Error("这里找不到网站的权重文件：小诗人只在构建好的网站上运行。"));
      const base = new URL(this.data.folder, root).href;
      // The poet may write any of its 3,000 characters, most of them absent from the web font the pages
      // carry: on the book's site (its cjk.css is on the page), add the rest of the font as stage 0 does.
      if (document.querySelector('link[href*="_static/cjk.css"]')) window.AttnStage0.addRestFont(root);
      status.textContent = "正在下载小诗人的权重……";
      this.loading = fetch(base + "poet.json").then((r) => { if (!r.ok) throw new Error(`权重清单下载失败（HTTP ${r.status}）`); return r.json(); })
        .then((manifest) => {
          if (manifest.model_id !== this.data.model_id) {
            throw new Error(`网站上的权重（${String(manifest.model_id).slice(0, 12)}）不是本页构建时的模型（${this.data.model_id.slice(0, 12)}），拒绝使用：请重新构建本书。`);
          }
          return fetch(base + "poet.bin").then((r) => this.readBytes(r, manifest.bytes)).then((buf) => P.fromFiles(manifest, buf));
        }).then((model) => {
          this.model = model;
          this.index = new Map(model.vocab.map((t, i) => [t, i]).filter(([, i]) => i > P.UNK));
          status.textContent = "";
          return model;
        }).catch((e) => { this.loading = null; status.textContent = ""; throw e; });
      return this.loading;
    }

    readBytes(r, total) {
      if (!r.ok) throw new Error(`权重下载失败（HTTP ${r.status}）`);
      if (!r.body || !r.body.getReader) return r.arrayBuffer();
      const reader = r.body.getReader(), out = new Uint8Array(total);
      let got = 0;
      const pump = () => reader.read().then(({ done, value }) => {
        if (done) {
          if (got !== total) throw new Error(`权重只下载了 ${got} 字节，应有 ${total}`);
          return out.buffer;
        }
        if (got + value.length > total) throw new Error("权重文件比清单说的大：拒绝使用");
        out.set(value, got); got += value.length;
        this.el.status.textContent = `正在下载小诗人的权重：${Math.round(got / 1024)} / ${Math.round(total / 1024)} KB`;
        return pump();
      });
      return pump();
    }

    // The settings in the boxes, checked; throws a Chinese message.
    settings() {
      const num = (k) => Number(this.root.querySelector(`[data-role=${k}]`).value);
      return this.checked({ temperature: num("temperature"), top_k: num("top_k"), seed: num("seed"), cache: this.el.cache.checked });
    }

    // The rules of poet.generate's arguments (top_k null: every character), each broken one told in Chinese.
    checked(o) {
      const t = o.temperature, k = o.top_k, seed = o.seed, V = this.data.config.vocab_size;
      if (typeof t !== "number" || !(t > 0) || !Number.isFinite(t)) throw new Error("温度要是大于 0 的数，例如 0.8（越低越保守）。");
      if (k !== null && (!Number.isInteger(k) || k < 1 || k > V)) throw new Error(`top-k 要是 1 到 ${V} 之间的整数，例如 20。`);
      if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error("种子要是 0 到 4294967295 之间的整数，例如 0。");
      return o;
    }

    // 写诗: check, load if needed, then one character per frame, each step drawn.
    write() {
      let opts;
      try { opts = this.settings(); } catch (e) { this.say(e.message); return Promise.resolve(); }
      const first = this.check(this.el.prefix.value, this.data.max_prefix);
      if (first.error) {
        if (first.unknown) this.showPoem(first.chars, first.unknown, 0);  // marked where they are, never dropped
        this.say(first.error);
        return Promise.resolve();
      }
      this.say("");
      const job = ++this.job;
      this.root.dataset.busy = "1";  // until the poem is finished, stopped or refused
      return this.load().then(() => {
        const c = this.check(this.el.prefix.value, this.data.max_prefix);
        if (c.error) { this.showPoem(c.chars, c.unknown || [], 0); this.say(c.error); delete this.root.dataset.busy; return; }
        this.el.head.hidden = true; this.head = null;
        const w = P.writer(this.model, c.ids, opts);
        let spent = 0, count = 0;
        this.current = { w, opts };
        this.showPoem(c.chars, [], c.chars.length);
        const tick = () => {
          if (job !== this.job) return;
          const t0 = performance.now(), out = w.next();
          if (out === null) return this.finish(opts, spent, count);
          spent += performance.now() - t0; count += 1;
          this.drawStep(w, out);
          if (out.id === P.END) return this.finish(opts, spent, count);
          setTimeout(tick, this.data.delay_ms || 60);
        };
        tick();
      }).catch((e) => { this.say(e.message); delete this.root.dataset.busy; });
    }

    finish(opts, spent, count) {
      delete this.root.dataset.busy;
      if (count) this.ms[opts.cache ? "cache" : "none"] = spent / count;
      const f = (k) => (this.ms[k] === undefined ? "（还没量）" : `${this.ms[k].toFixed(1)} ms`);
      this.el.timing.textContent = `每写一个字：用 KV 缓存 ${f("cache")}，不用缓存 ${f("none")}（这台设备上量的）。`;
    }

    stop() { this.job += 1; delete this.root.dataset.busy; }

    reset() {
      this.stop(); this.current = null; this.head = null;
      this.el.prefix.value = ""; this.el.poem.innerHTML = ""; this.el.step.hidden = true; this.el.head.hidden = true;
      this.say("");
    }

    showPoem(chars, unknown, prefixLength) {
      const bad = new Set(unknown);
      this.el.poem.innerHTML = chars.map((ch, i) => `<span class="${bad.has(ch) ? "ap-unknown" : i < prefixLength ? "ap-given" : ""}"` +
        `${bad.has(ch) ? ' title="不在字表里"' : ""}>${esc(ch)}</span>`).join("");
    }

    // One step: the character written, the candidates as bars (the chosen one marked), the grid of heads.
    drawStep(w, out) {
      const vocab = this.model.vocab, probs = window.AttnMath.softmaxRow(out.logits).w;
      if (out.id !== P.END) this.el.poem.insertAdjacentHTML("beforeend", `<span class="ap-new-char">${esc(vocab[out.id])}</span>`);
      const top = probs.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, TOP);
      if (!top.some(([, i]) => i === out.id)) top.push([probs[out.id], out.id]);
      const name = (i) => (i === P.END ? "（完）" : vocab[i]);
      this.el.probs.innerHTML = `<p class="ap-label">下一个字的概率（温度 1；选中的加框）</p>` + top.map(([p, i]) =>
        `<div class="ap-bar${i === out.id ? " ap-chosen" : ""}"><span class="ap-char">${esc(name(i))}</span>` +
        `<span class="ap-track"><span style="width:${(100 * p).toFixed(1)}%"></span></span><span class="ap-p">${p.toFixed(3)}</span></div>`).join("");
      this.drawGrid(w.ids.length - (out.id === P.END ? 1 : 2), out.rows);
      this.el.step.hidden = false;
    }

    // Layers × heads: each cell the attention row of the character just read over everything before it.
    drawGrid(t, rows) {
      const c = this.data.config, chars = H.labels(this.tokensUpTo(t + 1));
      let html = "";
      for (let l = 0; l < c.n_layer; l++) {
        html += `<div class="ap-layer"><span class="ap-layer-name">第 ${l} 层</span>`;
        for (let j = 0; j < c.n_head; j++) {
          const role = (this.data.roles[`${l},${j}`] || []).join("、"), row = rows[l][j];
          html += `<button type="button" class="ap-cell" data-cell="${l},${j}" title="第 ${l} 层 · 头 ${j}${role ? "：" + esc(role) : ""}">` +
            `<span class="ap-cell-name">头 ${j}${role ? ` <i>${esc(role)}</i>` : ""}</span><span class="ap-row">` +
            row.map((v, k) => `<span style="background:${window.AttnStage.colours(this.data, v, "prob", 1)[0]}" title="${esc(chars[k])} ${v.toFixed(2)}"></span>`).join("") +
            `</span></button>`;
        }
        html += "</div>";
      }
      this.el.grid.innerHTML = html;
      this.el.grid.dataset.position = String(t);
    }

    tokensUpTo(n) { return this.current.w.ids.slice(0, n).map((i) => this.model.vocab[i]); }

    // Click on a head: its step-through on the text read so far (the query is the last character read).
    openHead(layer, head) {
      const t = Number(this.el.grid.dataset.position), ids = this.current.w.ids.slice(0, t + 1);
      const f = P.forward(this.model, ids, false), role = (this.data.roles[`${layer},${head}`] || []).join("、");
      this.head = H.show(this.el.head, this.data, this.model, this.tokensUpTo(t + 1), f, layer, head, role, this.current.opts.cache);
      this.el.head.scrollIntoView({ block: "nearest" });
      return this.head;
    }

    // ---- the script hook -----------------------------------------------------------
    run(text) {
      return this.load().then(() => {
        const c = this.check(text, this.data.config.block_size - 1);
        if (c.error && !c.unknown) throw new Error(c.error);
        const ids = [P.START, ...c.chars.map((ch) => (this.index.has(ch) ? this.index.get(ch) : P.UNK))];
        const r = P.run(this.model, ids);
        return { tokens: ids.map((i) => this.model.vocab[i]), ids, probs: r.probs,
                 heads: r.heads.map((layer) => layer.map((s) => s.weights)) };
      });
    }

    generate({ prefix = "", seed = 0, temperature = 0.8, top_k = 20, cache = true } = {}) {
      const opts = this.checked({ seed, temperature, top_k, cache: Boolean(cache) });
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
    initAll() {
      document.querySelectorAll("[data-attn-poet]").forEach((root) => {
        if (root.attnPoet) return;
        const p = new Poet(root);
        root.attnPoet = { run: (t) => p.run(t), generate: (o) => p.generate(o), write: () => p.write(), shown: () => p.head || null,
                          ms: () => Object.assign({}, p.ms), loaded: () => Boolean(p.model), model: () => p.model };
      });
    },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => window.AttnPoet.initAll());
  else window.AttnPoet.initAll();
})();
