/* attn_steps, the poet's steps drawn: a poem one verse per line, each written character a button that opens its step;
 * a step's candidates as bars; every head's attention row as a tile with a switch that removes the head.
 *
 * Pure functions from plain data to HTML (the page's frame too); no state, no events
 * (poet_view.js owns both). A poem is { ids (with <s>), given (how many characters the
 * reader gave), steps, knock (poet_math.js's knockTable), opts }, a step { id (the id drawn), t (the position read: its
 * row in every head), top ([p, id] of the candidates), rows[layer][head] (that
 * position's attention row) }. Colours are stage_view.js's, as every weights table of
 * the book. window.AttnPoetSteps.
 */
window.AttnPoetSteps = window.AttnPoetSteps || (function () {
  "use strict";
  const S = window.AttnStage, esc = S.esc, P = window.AttnPoetMath;
  const TOP = 10;  // candidates drawn as bars
  const VERSE_END = "，。";

  // The step's record: the candidates (the TOP likeliest at temperature 1, and the one drawn if not among them).
  function record(out, t) {
    const probs = window.AttnMath.softmaxRow(out.logits).w;
    const top = probs.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, TOP);
    if (!top.some(([, i]) => i === out.id)) top.push([probs[out.id], out.id]);
    return { id: out.id, t, top, rows: out.rows };
  }

  const nameOf = (vocab, id) => (id === P.END ? "（完）" : vocab[id]);

  // The page: title, the reader's controls, the poems (the intact one beside when heads are removed), the step
  // shown (◀ ▶, candidates, the tiles), the head opened.
  function pageHTML(d) {
    const s = d.settings, c = d.config;
    const column = (role, title) => `<div class="ap-poem-col" data-role="${role}-col"${role === "twin" ? " hidden" : ""}>` +
      `<p class="ap-poem-title" data-role="${role}-title"${title ? "" : " hidden"}>${title}</p>` +
      `<div class="ap-poem" data-role="${role === "main" ? "poem" : role}"${role === "main" ? ' aria-live="polite"' : ""}></div>` +
      `<p class="ap-rhyme" data-role="${role}-rhyme"></p></div>`;
    return `<div class="ae-head"><b>${esc(d.title)}</b><span class="ae-source">${c.n_layer} 层 × ${c.n_head} 个头，` +
      `每个字 ${c.n_embd} 个数，字表 ${c.vocab_size - 4} 字；权重在第一次写诗时才载入（网站上从网站下载，Jupyter 里由内核送来）</span></div>` +
      `<div class="ae-controls ap-controls"><label>开头 <input type="text" data-role="prefix" size="9" placeholder="0–${d.max_prefix} 个字" aria-label="诗的开头，0 到 ${d.max_prefix} 个字"></label>` +
      `<span class="ap-openings" role="group" aria-label="名句的开头">${d.openings.map((o) => `<button type="button" data-opening="${esc(o)}">${esc(o)}</button>`).join("")}</span></div>` +
      `<div class="ae-controls ap-controls"><label>温度 <input type="number" data-role="temperature" min="0.05" step="0.1" value="${s.temperature}"></label>` +
      `<label>top-k <input type="number" data-role="top_k" min="1" max="${c.vocab_size}" step="1" value="${s.top_k}"></label>` +
      `<label>种子 <input type="number" data-role="seed" min="0" step="1" value="${s.seed}"></label>` +
      `<label><input type="checkbox" data-role="cache" checked> 用 KV 缓存</label>` +
      `<button type="button" data-action="write" class="ap-write">写诗</button><button type="button" data-action="stop">停</button>` +
      `<button type="button" data-action="reset">重来</button></div>` +
      `<p class="ae-message" data-role="message" role="alert" hidden></p><p class="ap-status" data-role="status" aria-live="polite"></p>` +
      `<div class="ap-poems">${column("twin", "完整的模型")}${column("main", "")}</div>` +
      `<div class="ap-effects" data-role="effects" hidden></div><p class="ap-timing" data-role="timing"></p>` +
      `<p class="ap-ended" data-role="ended" aria-live="polite"></p>` +
      `<div class="ap-step" data-role="step" hidden><div class="ap-nav"><button type="button" data-action="prev" aria-label="上一步">◀</button>` +
      `<span class="ap-step-label" data-role="step-label" aria-live="polite"></span><button type="button" data-action="next" aria-label="下一步">▶</button></div>` +
      `<div class="ap-probs" data-role="probs"></div><div class="ap-grid-box">` +
      `<p class="ap-label" data-role="grid-label"></p><div class="ap-knock-bar"><label>去掉的头换成 <select data-role="knock_mode">` +
      `<option value="mean">它的平均输出</option><option value="zero">0</option></select></label>` +
      `<button type="button" data-action="restore">全部放回</button></div><div class="ap-grid" data-role="grid"></div></div></div>` +
      `<div class="ap-headview" data-role="head" hidden></div>`;
  }

  // One character of a poem: given (the reader's), or written at step k (a button that opens it; one Tab stop per
  // poem, ← → move between them: poet_view.js); a line break after a verse's punctuation. The end of the poem is a
  // button too, drawn by CSS, so the poem's text is its characters only.
  const lineBreak = (ch) => (VERSE_END.includes(ch) ? "<br>" : "");
  function charHTML(vocab, id, k) {
    if (id === P.END) return `<button type="button" class="ap-ch ap-end" data-step="${k}" tabindex="-1" aria-label="第 ${k + 1} 步：写完" title="第 ${k + 1} 步：写完"></button>`;
    const ch = vocab[id];
    return `<button type="button" class="ap-ch ap-new-char" data-step="${k}" tabindex="-1" title="第 ${k + 1} 步：写「${esc(ch)}」">${esc(ch)}</button>${lineBreak(ch)}`;
  }
  const givenHTML = (ch) => `<span class="ap-given">${esc(ch)}</span>${lineBreak(ch)}`;

  // The heading of a shown step: which character was written, and whose attention rows the tiles are.
  function label(vocab, poem, k) {
    const step = poem.steps[k], reader = poem.ids[step.t];
    const who = step.t === 0 ? "开始符 &lt;s&gt;" : `「${esc(vocab[reader])}」（第 ${step.t} 个字）`;
    const wrote = step.id === P.END ? "写完（结束符）" : `写「${esc(vocab[step.id])}」`;
    return `第 ${k + 1} / ${poem.steps.length} 步：读到 ${who}，${wrote}`;
  }

  function candidatesHTML(vocab, step) {
    return `<p class="ap-label">下一个字的概率（温度 1；选中的加框）</p>` + step.top.map(([p, i]) =>
      `<div class="ap-bar${i === step.id ? " ap-chosen" : ""}"><span class="ap-char">${esc(nameOf(vocab, i))}</span>` +
      `<span class="ap-track"><span style="width:${(100 * p).toFixed(1)}%"></span></span><span class="ap-p">${p.toFixed(3)}</span></div>`).join("");
  }

  // Layers × heads: each tile a button that opens the head (its row over the characters read, labels as tooltips),
  // and a switch (aria-pressed) that removes it from the next poem. `off` names the heads the next poem goes without,
  // `removed` those the shown poem went without.
  function gridHTML(data, labels, rows, off, removed) {
    const c = data.config;
    let html = "";
    for (let l = 0; l < c.n_layer; l++) {
      html += `<div class="ap-layer" role="group" aria-label="第 ${l} 层"><span class="ap-layer-name">第 ${l} 层</span>`;
      for (let j = 0; j < c.n_head; j++) {
        const key = `${l},${j}`, role = (data.roles[key] || []).join("、"), row = rows[l][j];
        const gone = removed.has(key), pressed = off.has(key);
        html += `<div class="ap-cell${gone ? " ap-removed" : ""}${pressed ? " ap-off" : ""}">` +
          `<button type="button" class="ap-open" data-cell="${key}" title="第 ${l} 层 · 头 ${j}${role ? "：" + esc(role) : ""}` +
          `${gone ? "（这首诗里已去掉：注意力照算，输出没有用）" : ""}">` +
          `<span class="ap-cell-name">头 ${j}${role ? ` <i>${esc(role)}</i>` : ""}${gone ? ' <b class="ap-gone">已去掉</b>' : ""}</span>` +
          `<span class="ap-row">` + row.map((v, k) => `<span style="background:${S.colours(data, v, "prob", 1)[0]}" title="${esc(labels[k])} ${v.toFixed(2)}"></span>`).join("") +
          `</span></button><button type="button" class="ap-switch" data-knock="${key}" aria-pressed="${pressed}" ` +
          `aria-label="去掉第 ${l} 层 · 头 ${j}" title="${pressed ? "下一首诗不用这个头：再按一下放回" : "下一首诗不用这个头"}">去掉</button></div>`;
      }
      html += "</div>";
    }
    return html;
  }

  // Why a poem stopped where it did, when it was not its own end: the context was full. "" otherwise.
  // poems: { main, twin }; opts: the settings they were written with.
  function endedText(config, poems, opts) {
    const full = (poem) => Boolean(poem && poem.ids.length >= config.block_size && poem.steps.length &&
      poem.steps[poem.steps.length - 1].id !== P.END);
    const who = [poems.twin ? full(poems.main) && "去掉头的这首" : full(poems.main) && "这首诗", full(poems.twin) && "完整的模型那首"]
      .filter(Boolean);
    if (!who.length) return "";
    const n = config.block_size - 1, flat = [];
    if (opts.temperature > 1) flat.push(`温度 ${opts.temperature} 大于 1，把概率拉平了`);
    if (opts.top_k === null || opts.top_k > 100) flat.push(`top-k ${opts.top_k} 几乎不删掉任何字`);
    return `${who.join("和")}写满 ${n} 个字就停了：模型一次最多读开始符 <s> 加 ${n} 个字（block_size = ${config.block_size}），` +
      "读满了就没法再往下写。它一直没有抽到结束符（完）" +
      (flat.length ? `：${flat.join("，")}，结束符就很难被抽中。调低温度或 top-k，它会在一首诗写完时自己停。` : "。");
  }

  return { TOP, pageHTML, endedText, record, charHTML, givenHTML, label, candidatesHTML, gridHTML };
})();
