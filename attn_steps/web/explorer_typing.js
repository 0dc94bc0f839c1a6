/* attn_steps explorer, the text field: a reader's own sentence, cut, embedded and computed with no kernel.
 *
 * explorer.py puts `typing` into an explorer's data when its X came from the
 * walkthrough's embeddings (mode "vectors", chapter 2) or when it carries
 * chapter 4's trained head (mode "head"). Then the explorer gets a text field.
 * The first keystroke loads the tables (on the site, _ext/site_tables.py writes
 * them into _static/attn-tables/; in Jupyter the kernel sends the same bytes, files.js;
 * never before, so a reader who only reads pays nothing), and from then on every keystroke:
 *
 *   stage 0   cuts the text: by character, by the book's segmenter (segmenter.js,
 *             whose DAG, log-probabilities and route are drawn, with explorer_stage0.js's notes),
 *             or by the browser's Intl.Segmenter, a black box to compare with;
 *   X         looks each word up in the per-word table (embed(word, context=False));
 *             a word the table lacks is split into characters it has, and a character
 *             in no table is marked on the page and left out, never given zeros;
 *   then      "vectors": every stage of the strip, recomputed by explorer_math.js;
 *             "head": chapter 4's head on 苹果's row (wordvecs.js headVerdict), since
 *             its 192-wide X is too large to ship per word.
 *
 * The cut, the vectors and the stages are computed in the browser alike on the site and in Jupyter.
 *
 * Contract for tests and scripts (on root.attnExplorer): type(text, mode) returns a
 * promise of typed(); typed() is {text, mode, words, tokens, split, missing, message,
 * verdict: {sense, p, weights, tokens, deciding, calibration} in mode "head"}; restore() goes back to the page's sentence; lastTypedMs is the time from
 * the keystroke (or the call) to every stage redrawn. Messages go to data-role="typed-message".
 */
(function () {
  "use strict";
  if (window.AttnTyping) return;
  const Seg = window.AttnSegmenter, Vec = window.AttnWordVecs, Exp = window.AttnExport, Stage0 = window.AttnStage0;
  const MODES = [["book", "本书的分词器"], ["char", "按字"], ["intl", "浏览器的 Intl.Segmenter"]];
  const SPACE = /^\s+$/u, PUNCT = /^\p{P}+$/u, HAN = /\p{Script=Han}/u;
  // The tables hold GB2312's simplified characters: a hanzi outside them is most often a traditional form.
  const TRADITIONAL = "本站的表只收简体字（GB2312 的汉字）：如果这是繁体字，请换成简体再输入。";
  const esc = window.AttnStage.esc, siteRoot = window.AttnStage0.siteRoot;
  const num = (v, digits) => v.toFixed(digits).replace("-", "−");

  // ---- the tables: loaded once per page (from the site) or per widget (from its kernel: AttnFiles) ----------
  // One promise of {dict, table, rows} per source and list of files; a failed load is forgotten (the next keystroke retries).
  const loaded = new Map();
  function loadTables(typing, root) {
    const from = window.AttnFiles.where(root);
    if (from === null) return Promise.reject(new Error(window.AttnFiles.NOWHERE));
    const key = (from === "kernel" ? root.id + "|" : "") + typing.files.join("|");
    if (!loaded.has(key)) {
      const json = (f) => window.AttnFiles.json(root, typing.tables + f);
      const p = Promise.all(typing.files.map(json)).then(([dj, tj]) => {
        const dict = Seg.fromJson(dj);
        return { dict, table: tj, rows: Vec.loadTable(tj, dict) };
      });
      p.catch(() => loaded.delete(key));
      loaded.set(key, p);
    }
    return loaded.get(key);
  }

  // ---- stage 0: text -> words, in the chosen mode ----------------------------------

  function cutter(mode, dict) {
    if (mode === "char") return (text) => Array.from(text);
    if (mode === "intl") {
      const seg = new Intl.Segmenter("zh", { granularity: "word" });
      return (text) => Array.from(seg.segment(text), (s) => s.segment);
    }
    return (text) => Seg.cut(text, dict);
  }

  // training.py's head_tokens in the browser: 苹果 always a token of its own (corpus.apple_tokens), no punctuation.
  function appleTokens(text, cut, target) {
    let words = [];
    for (const w of cut(text)) {
      const k = w.indexOf(target);
      if (k >= 0 && w !== target) words.push(...[w.slice(0, k), target, w.slice(k + target.length)].filter(Boolean));
      else words.push(w);
    }
    if (!words.includes(target)) {  // the cut went across 苹果 (按字: 苹 / 果): cut around it instead
      const k = text.indexOf(target), before = text.slice(0, k), after = text.slice(k + target.length);
      words = [...(before.trim() ? cut(before) : []), target, ...(after.trim() ? cut(after) : [])];
    }
    return words.filter((w) => !PUNCT.test(w));
  }

  // The words after stage 0 -> the tokens X has rows for. A word the table lacks is split into its
  // characters when the table has them all (Intl's words, Latin runs); a character it lacks is left out.
  function lookupable(words, rows) {
    const tokens = [], split = [], missing = [];
    for (const w of words) {
      if (rows.index.has(w)) { tokens.push(w); continue; }
      const chars = Array.from(w);
      if (chars.length > 1 && chars.every((c) => rows.index.has(c))) { split.push(w); tokens.push(...chars); continue; }
      for (const c of chars) (rows.index.has(c) ? tokens : missing).push(c);
    }
    return { tokens, split, missing };
  }

  // ---- the controller of one explorer's text field ---------------------------------------

  class Typing {
    constructor(explorer) {
      this.ex = explorer;
      this.cfg = explorer.data.typing;
      this.mode = "book";
      this.state = null;
      this.lastTypedMs = null;
      this.box = explorer.root.querySelector("[data-role=typing]");
      this.build();
    }

    build() {
      const head = this.cfg.mode === "head";
      const hasIntl = typeof Intl === "object" && typeof Intl.Segmenter === "function";
      this.box.innerHTML = `
        <div class="ae-type-row">
          <label>自己的句子 <input data-role="typed" type="text" lang="zh-CN" autocomplete="off" spellcheck="false"
            maxlength="${this.cfg.max_chars * 2}" placeholder="${head ? "输入一句带「苹果」的话，例如 我用苹果手机拍照" : "输入一句中文，例如 我的苹果手机没电了"}"></label>
          <span class="ae-modes" role="radiogroup" aria-label="怎么切词">${MODES.map(([m, t]) =>
            `<label><input type="radio" name="${this.ex.root.id}-mode" value="${m}"${m === this.mode ? " checked" : ""}${m === "intl" && !hasIntl ? " disabled" : ""}> ${t}</label>`).join("")}</span>
          <button type="button" data-role="restore" hidden>回到本页的句子</button>
        </div>
        <p class="ae-type-note" data-role="typed-note">${head
          ? "在浏览器里算：先切词，再查每个词的两个数（训练后的头对这个词的分数和投票），不用内核。"
          : "在浏览器里算：先切词，再给每个词查一个 10 维的向量，然后重算下面的每一步，不用内核。"}${window.AttnFiles.where(this.ex.root) === "kernel"
          ? "第一次输入时由内核送来词表（要几秒）；字形用本书自带的字体（GB2312 的字），也由内核送来。"
          : "第一次输入时载入词表；本站字体里没有的常用字（GB2312 第一级），显示时才下载它们的字形（系统里有中文字体就不下载）。"}</p>
        <p class="ae-message" data-role="typed-message" role="status" hidden></p>
        <details class="ae-seg" data-role="segmentation" open hidden><summary>第 0 步：分词</summary><div></div></details>
        ${head ? '<div class="ae-head-run" data-role="head-run" hidden></div>' : ""}`;
      const input = this.box.querySelector("[data-role=typed]");
      // While an input method composes (pinyin → 汉字) the field holds Latin letters: wait for the characters.
      input.addEventListener("input", (e) => { if (!e.isComposing) this.run(input.value, e.timeStamp); });
      input.addEventListener("compositionend", (e) => this.run(input.value, e.timeStamp));
      this.box.querySelectorAll("input[type=radio]").forEach((r) => r.addEventListener("change", () => {
        this.mode = r.value;
        if (input.value) this.run(input.value, performance.now());
      }));
      this.box.querySelector("[data-role=restore]").addEventListener("click", () => this.restore());
      if (head) this.box.querySelector("[data-role=head-run]").addEventListener("click", (e) => {
        const b = e.target.closest("[data-export]");  // the head table's SVG / PNG / CSV
        if (b) Exp.file(this.figure, b.dataset.format).then((f) => Exp.save(f.data, f.filename, f.type)).catch((err) => this.say(`下载没有成功：${err.message}`));
      });
    }

    say(text) {
      const box = this.box.querySelector("[data-role=typed-message]");
      box.hidden = !text;
      box.textContent = text || "";
      this.ex.remember();  // the typed sentence is part of the page's link
    }

    // A short message for text no table can help with, or null when it can be computed.
    refuse(text) {
      const c = this.cfg, trimmed = text.trim(), n = Array.from(trimmed).length;
      if (!trimmed) return "输入框是空的：输入一句中文，下面的每一步就按它重算。";
      if (n > c.max_chars) return `这句话有 ${n} 个字符，浏览器里最多算 ${c.max_chars} 个：再长，每一步的数就挤得看不清了。请删短一些。`;
      if (!HAN.test(trimmed)) return `「${Array.from(trimmed).slice(0, 12).join("")}${n > 12 ? "…" : ""}」里没有汉字：本书的词表和词向量是中文的，请输入一句中文。`;
      if (c.mode === "head" && !trimmed.includes(c.target)) return `这一章的头只判断「${c.target}」的意思：句子里要有「${c.target}」这个词。`;
      return null;
    }

    // Type text (as a script would) in mode; resolves once every stage is redrawn.
    type(text, mode) {
      if (mode !== undefined) {
        if (!MODES.some(([m]) => m === mode)) throw new Error(`分词方式要选 ${MODES.map(([m]) => m).join("、")} 之一；现在是 ${mode}`);
        this.mode = mode;
        this.box.querySelectorAll("input[type=radio]").forEach((r) => { r.checked = r.value === mode; });
      }
      this.box.querySelector("[data-role=typed]").value = text;
      return this.run(text, performance.now());
    }

    run(text, since) {
      Stage0.addRestFont(siteRoot());
      const refusal = this.refuse(text);
      if (refusal) {  // nothing stale stays on the page: the explorer goes back to the page's sentence
        this.clear(text.length > 0);
        this.state = { text, mode: this.mode, message: refusal };
        this.say(refusal);
        return Promise.resolve(this.typed());
      }
      if (this.mode === "intl" && !(typeof Intl === "object" && Intl.Segmenter)) {
        this.say("这个浏览器没有 Intl.Segmenter：请选「本书的分词器」或「按字」。");
        return Promise.resolve(this.typed());
      }
      const ticket = (this.ticket = (this.ticket || 0) + 1);
      if (!this.tables) this.say(window.AttnFiles.where(this.ex.root) === "kernel" ? "正在从内核载入词表（第一次输入时载入一次，要几秒）…" : "正在载入词表（第一次输入时载入一次）…");
      return loadTables(this.cfg, this.ex.root).then((tables) => {
        this.tables = tables;
        if (ticket !== this.ticket) return this.typed();  // a later keystroke has already taken over
        const first = this.lastTypedMs === null;
        this.compute(text, first ? performance.now() : since);
        return this.typed();
      }, (e) => {
        const from = window.AttnFiles.where(this.ex.root), where = from === null ? window.AttnFiles.NOWHERE : from === "kernel"
          ? `词表没有从内核载入成功（${e.message}）：内核还在运行吗？请稍后再输入一次。` : "词表没有载入成功（网络或文件有问题），请稍后再输入一次。";
        this.say(where);
        this.state = { text, mode: this.mode, message: where };
        return this.typed();
      });
    }

    compute(text, since) {
      const { dict, rows, table } = this.tables, cfg = this.cfg, ex = this.ex;
      const cut = cutter(this.mode, dict);
      const words = cut(text).filter((w) => !SPACE.test(w));
      const wanted = cfg.mode === "head" ? appleTokens(text, cut, cfg.target) : words;
      const { tokens, split, missing } = lookupable(wanted, rows);
      const source = cfg.source_names[table.source] || table.source;
      this.state = { text, mode: this.mode, words, tokens, split, missing, message: null, verdict: null };
      this.drawSegmentation(text, words, split, missing);
      let message = null;
      if (cfg.mode === "head") { this.box.querySelector("[data-role=head-run]").hidden = true; ex.showTyped(false); }
      if (cfg.mode === "head" && table.head_id !== cfg.head_id) {
        message = "本站的头表来自另一个训练好的头，和本页的头不一样：这里不显示它的判断。";
      } else if (cfg.mode === "head") {
        message = this.runHead(tokens, table, rows, source);
      } else if (!tokens.length) {
        message = "这句话里没有一个词在词向量表里，没有可以计算的行。";
      } else if (tokens.length > cfg.max_chars) {
        message = `切出了 ${tokens.length} 个词，最多算 ${cfg.max_chars} 个。`;
      } else {
        const X = tokens.map((t) => { const r = rows.index.get(t); return Array.from(rows.values.subarray(r * rows.dim, (r + 1) * rows.dim)); });
        ex.setInput({ tokens: unique(tokens), X, source_short: `${source}；每个词单独的向量（不看上下文）`,
                      x_note: "每个词单独查表（context=False），不是本章的 tok2vec 向量" });
      }
      const notes = [];
      const once = (list) => [...new Set(list)].map((w) => `「${w}」`).join("");  // a repeated word is named once
      if (split.length) notes.push(`词向量表里没有 ${once(split)}（它只收最常见的 ${rows.words.toLocaleString("en-US")} 个词和单字），按字拆开查。`);
      if (missing.length) notes.push(`${once(missing)}不在任何表里，下面的计算不含它。` + (missing.some((c) => HAN.test(c)) ? TRADITIONAL : ""));
      this.state.message = message;
      this.say([message, ...notes].filter(Boolean).join(" "));
      this.box.querySelector("[data-role=restore]").hidden = false;
      this.lastTypedMs = performance.now() - since;
      ex.lastTypedMs = this.lastTypedMs;
    }

    // Stage 0 on the page: the words, and for the book's segmenter the DAG and the route.
    drawSegmentation(text, words, split, missing) {
      const box = this.box.querySelector("[data-role=segmentation]"), body = box.querySelector("div");
      const lost = new Set(missing), broken = new Set(split);
      const chip = (w) => `<span class="ae-word${broken.has(w) ? " ae-split" : ""}${Array.from(w).some((c) => lost.has(c)) ? " ae-missing" : ""}"` +
        `${broken.has(w) ? ' title="词表里没有这个词：按字拆开查"' : ""}${Array.from(w).some((c) => lost.has(c)) ? ' title="表里没有它的向量：不参与计算"' : ""}>${esc(w)}</span>`;
      const result = `<p class="ae-words" data-role="words">${words.map(chip).join('<span class="ae-slash">/</span>')}</p>`;
      let how = "";
      if (this.mode === "char") how = "<p>按字：每个字一个词，不查词典。</p>";
      else if (this.mode === "intl") how = "<p>浏览器自带的 Intl.Segmenter（granularity: \"word\"）切的：看不到它为什么这样切，拿来和本书的分词器比一比。</p>";
      else how = '<p class="ae-type-note">每一段汉字（或字母、数字）：从每个字开始、词典里有的词和它的 log P（log 词频 − log 总数）；' +
        "右栏是从这个字到末尾最好路线的得分（从后往前动态规划：每个候选词的 log P 加上它后面那一格的得分，取最大的）。蓝框是选中的路线；标点和空格不查词典。</p>" +
        Seg.explain(text, this.tables.dict).filter((r) => r.by_dictionary).map((r) => this.dagTable(r) + Stage0.loneNote(r, this.tables.dict)).join("");
      body.innerHTML = result + how + Stage0.fontNote(text);
      box.hidden = false;
    }

    // One run of hanzi (or Latin letters and digits): each position's candidates with log P, and the route.
    dagTable(r) {
      const chars = Array.from(r.text);
      if (chars.length !== r.text.length) return "";  // outside the BMP: segmenter.py counts code points, JS units
      const starts = new Set();
      for (let k = 0; k < r.text.length; k = r.route[k].end + 1) starts.add(k);
      const rows = r.dag.map((cands, k) => {
        const on = starts.has(k);
        const list = cands.map((c) => {
          const chosen = on && c.end === r.route[k].end;
          return `<span class="ae-cand${chosen ? " ae-chosen" : ""}${c.known ? "" : " ae-unknown"}" title="${c.known ? "词典里的词" : "词典里没有：单字，计数按 1 算"}">${esc(c.word)} <small>${num(c.log_prob, 2)}</small></span>`;
        }).join(" ");
        return `<tr class="${on ? "ae-on-route" : ""}"><th>${k}</th><td class="ae-char">${esc(r.text[k])}</td><td>${list}</td><td>${num(r.route[k].score, 2)}</td></tr>`;
      }).join("");
      return `<table class="ae-dag"><caption>「${esc(r.text)}」</caption>` +
        `<tr><th>位置</th><th>字</th><th>从这里开始的词 (log P)</th><th>到末尾的最好得分</th></tr>${rows}</table>`;
    }

    // Chapter 4: the trained head on 苹果's row, from two numbers per word; null or a message.
    // Every number drawn is headVerdict's; the table downloads as wordvecs.head_reading writes it.
    runHead(tokens, table, rows, source) {
      const panel = this.box.querySelector("[data-role=head-run]");
      const target = this.cfg.target;
      if (!tokens.includes(target)) return `「${target}」没有查到它的两个数，头读不了这句话。`;
      if (tokens.length < 2) return `头要看「${target}」以外至少一个词；这句话只有「${target}」。`;
      const v = Vec.headVerdict(tokens, table, rows), labels = unique(tokens), z = v.logit - table.b;
      const deciding = v.deciding >= 0 ? labels[v.deciding] : null;
      this.state.verdict = { sense: v.sense, p: v.p, weights: v.weights, tokens: tokens.slice(), deciding, calibration: v.calibration };
      const paint = (x, kind, lim) => this.ex.cellStyle(x, kind, lim).split(";").map((d) => d.split(":")[1]);  // [fill, ink]
      const model = Vec.headFigure(v, labels, `训练后的头读「${this.state.text}」`, source, paint);
      const body = labels.map((w, i) => {
        const cells = model.texts[i].map((t, j) => (j === 0 && model.fills[i][j] ? `<td>${esc(t)}</td>` : model.fills[i][j]
          ? `<td style="background:${model.fills[i][j]};color:${model.inks[i][j]}">${esc(t)}</td>` : `<td class="ae-blocked" title="查询：不看自己">${esc(t)}</td>`));
        const label = i === v.deciding ? `<mark>${esc(w)}</mark>` : esc(w);
        return `<tr${i === v.deciding ? ' data-role="deciding"' : ""}><th>${label}</th>${cells.join("")}</tr>`;
      }).join("");
      const toward = deciding === null
        ? `没有一个词的 w × 投票 推向「${esc(v.sense)}」：是偏置 b 决定的。`
        : `把判断推向「${esc(v.sense)}」最多的词是表里标出的「${esc(deciding)}」：w × 投票 = ${num(v.contributions[v.deciding], 2)}。`;
      panel.innerHTML = `<p><b>训练后的头读这句话</b>：${esc(target)} 的查询 q 对每个词的键打分，softmax 成权重，再按权重把每个词的投票（值 · u）加起来。` +
        `<span class="ae-source">${esc(source)}；每个词单独的向量（不看上下文）</span>${Exp ? Exp.buttons("head") : ""}</p>` +
        `<table class="ae-head-table" data-role="head-table"><tr><th>词</th>${Vec.HEAD_COLUMNS.map(([, h]) => `<th>${h}</th>`).join("")}</tr>${body}</table>` +
        `<p>Σ w × 投票 + b = ${num(z, 3)} + (${num(table.b, 3)}) = ${num(v.logit, 3)}；p(${esc(table.senses[1])}) = σ(${num(v.logit, 3)}) = ${num(v.prob, 3)}</p>` +
        `<p class="ae-verdict" data-role="verdict">判为「${esc(v.sense)}」，概率 ${num(v.p, 2)}</p>` +
        `<p data-role="deciding-note">${toward}</p>` +
        (v.calibration ? `<p data-role="calibration">${Vec.calibrationLine(v.calibration, table.calibration)}</p>` : "") +
        `<p class="ae-type-note">本页的分步图每个词有 ${this.ex.data.X[0].length} 个数，太多，不能按词放进网站；` +
        `输入的句子只走训练后的头在「${esc(target)}」这一行的计算（点「回到本页的句子」看回分步图）。这个头只在本书的 苹果 语料上训练过：概率高不等于判断对。</p>`;
      this.figure = model;
      panel.hidden = false;
      this.ex.showTyped(true);
      return null;
    }

    // Back to the page's sentence; keepField leaves what the reader typed in the box.
    clear(keepField) {
      if (!keepField) this.box.querySelector("[data-role=typed]").value = "";
      this.box.querySelector("[data-role=segmentation]").hidden = true;
      this.box.querySelector("[data-role=restore]").hidden = !keepField;
      const panel = this.box.querySelector("[data-role=head-run]");
      if (panel) panel.hidden = true;
      this.ex.restoreInput();
    }

    restore() {
      this.ticket = (this.ticket || 0) + 1;  // a table still loading must not redraw afterwards
      this.clear(false);
      this.state = null;
      this.say(null);
    }

    typed() { return this.state ? JSON.parse(JSON.stringify(this.state)) : null; }
  }

  // Row labels as embeddings.unique_labels writes them: a word that occurs more than once is numbered (我₁ 爱 我₂).
  function unique(tokens) {
    const total = new Map(), seen = new Map(), sub = (n) => String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[d]);
    tokens.forEach((t) => total.set(t, (total.get(t) || 0) + 1));
    return tokens.map((t) => {
      if (total.get(t) === 1) return t;
      seen.set(t, (seen.get(t) || 0) + 1);
      return t + sub(seen.get(t));
    });
  }

  window.AttnTyping = { attach: (explorer) => new Typing(explorer), appleTokens, lookupable, cutter };
})();
