/* attn_steps, the poet's one head opened: the book's step-through for one head of one layer on the text so far.
 *
 * The stages come from poet_math.js's forward (explorer_math.js's selfAttention with the
 * causal mask); each is drawn by stage_view.js (AttnStage.panelHTML) and the navigator is
 * explorer_nav.js's, so there is one renderer of a stage in the book. X is that layer's
 * input after LayerNorm plus a column of ones (the bias is the last row of each W).
 * With the KV cache, the rows of X, K and V of the earlier characters were computed at
 * earlier steps and reused (class ap-cached); the last row is new (ap-new). A head removed
 * from the poem (a knock-out) still attends and is drawn; only its output is not used.
 * window.AttnPoetHead.
 */
window.AttnPoetHead = window.AttnPoetHead || (function () {
  "use strict";
  const S = window.AttnStage, N = window.AttnNav, esc = S.esc;
  const CACHED = new Set(["X", "K", "V"]);

  // Tokens as row labels: <s> and the characters, a repeated one numbered (月₁, 月₂) as embeddings.unique_labels.
  function labels(chars) {
    const sub = (n) => String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[d]);
    const total = {}, seen = {};
    chars.forEach((c) => { total[c] = (total[c] || 0) + 1; });
    return chars.map((c) => (total[c] > 1 ? c + sub((seen[c] = (seen[c] || 0) + 1)) : c));
  }

  // The context stage_view.js draws from, for head `head` of layer `layer` given forward()'s result.
  function context(data, model, chars, f, layer, head) {
    const st = f.heads[layer][head], T = chars.length, C = model.config.n_embd;
    const tokens = labels(chars);
    return {
      data, tokens, X: st.X, W: model.heads[layer][head], stages: st,
      settings: { query: T - 1, scale: true, temperature: 1 },
      mask: Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => j <= i)),
      x_note: data.x_note, source_short: `第 ${layer} 层的输入经 LayerNorm`,
      explainX: (i, j) => (j === C
        ? `<p>X[${esc(tokens[i])}, ${j}] = 1：每一行最后加的常数 1。W 的最后一行是偏置，乘这个 1 就把偏置加进了 Q、K、V。</p>`
        : `<p>X[${esc(tokens[i])}, ${j}] = ${S.fmt(st.X[i][j])}：第 ${layer} 层的输入（词嵌入 + 位置嵌入` +
          `${layer ? `，再经过前 ${layer} 层的注意力和 MLP` : ""}）在「${esc(tokens[i])}」这一行经过 LayerNorm：` +
          `减去这一行的平均，除以标准差，再乘增益、加偏移（ln_1 学到的两组数）。</p>`),
    };
  }

  // The view of one head: a title, the navigator, the strip of stages, the derivation panel.
  function html(ctx, layer, head, { role, cached, removed }) {
    const stageRows = ctx.data.stages, stops = N.stopsOf(stageRows), T = ctx.tokens.length;
    const rowClass = (name, i) => (!CACHED.has(name) ? "" : i === T - 1 ? "ap-new" : cached ? "ap-cached" : "");
    const note = cached
      ? `KV 缓存：X、K、V 的前 ${T - 1} 行（灰底）是前几步算好存下的，这一步只算最后一行「${esc(ctx.tokens[T - 1])}」（蓝框），Q 也只要这一行。`
      : `没有缓存：每写一个字，X、Q、K、V 的全部 ${T} 行都重新算一遍。`;
    const gone = removed ? `<p class="ap-removed-note">这首诗是去掉这个头写的：它的注意力照样算（下面每一步都是），` +
      `但它的输出（最后一步）没有交给下一层，换成了${removed === "zero" ? " 0" : "它的平均输出"}。</p>` : "";
    return `<div class="ap-head-title" tabindex="-1"><b>第 ${layer} 层 · 头 ${head}</b>${role ? ` <span class="ap-role">${esc(role)}</span>` : ""}` +
      ` <button type="button" data-action="close-head" title="收起" aria-label="收起这个头">×</button></div>${gone}<p class="ap-cache-note">${note}</p>` +
      N.html(stops) + `<div class="ae-body"><div class="ae-strip" data-role="strip">` +
      stageRows.map((s) => S.panelHTML(ctx, s, { rowClass })).join("") +
      `</div><aside class="ae-prov" data-role="provenance" aria-label="这个数从哪里来：第 ${layer} 层 · 头 ${head}"><p class="ae-prov-title">这个数从哪里来</p>` +
      `<div data-role="prov-body"><p>指向或点一格（或用 Tab 和方向键走到一格），这里写出它是怎么算出来的。</p></div></aside></div>` +
      `<p class="ae-sr" data-role="said" aria-live="polite"></p>`;
  }

  // A stage taken away (explorer_export.js, when the page has it: stage_view.js then draws the buttons).
  function download(ctx, name, format) {
    const E = window.AttnExport, model = S.exportModel(ctx, ctx.data.stages.find((s) => s.name === name));
    return E.file(model, format).then((f) => E.save(f.data, f.filename, f.type));
  }

  // Draw head (layer, head) into box and wire its navigator and derivations; returns what it shows.
  // how: { role (its names), cached (the poem used the KV cache), removed (false, or the knock_mode it was removed by) }.
  function show(box, data, model, chars, f, layer, head, how) {
    const ctx = context(data, model, chars, f, layer, head), stops = N.stopsOf(data.stages);
    box.innerHTML = html(ctx, layer, head, how);
    box.hidden = false;
    const strip = box.querySelector("[data-role=strip]"), prov = box.querySelector("[data-role=prov-body]");
    strip.querySelectorAll("table").forEach((tb) => { const c = tb.querySelector("td[data-stage]"); if (c) c.tabIndex = 0; });  // a Tab stop per stage
    let view = N.find(stops, "weights");
    N.apply(box, strip, stops, view);
    box.querySelectorAll("[data-stop]").forEach((b) => b.addEventListener("click", () => {
      view = b.dataset.stop === "all" ? "all" : Number(b.dataset.stop);
      N.apply(box, strip, stops, view);
    }));
    const explain = (e) => {
      const b = e.type === "click" && e.target.closest("[data-export]");
      if (b) { download(ctx, b.dataset.export, b.dataset.format); return; }
      const td = e.target.closest("td[data-stage]");
      if (!td) return;
      prov.innerHTML = S.derivation(ctx, td.dataset.stage, Number(td.dataset.row), Number(td.dataset.col));
      box.querySelector("[data-role=said]").textContent = S.said(prov.innerHTML);
      box.querySelectorAll("td.ae-focus").forEach((c) => c.classList.remove("ae-focus"));
      td.classList.add("ae-focus");
    };
    strip.addEventListener("mouseover", explain);
    strip.addEventListener("click", explain);
    strip.addEventListener("focusin", explain);
    strip.addEventListener("keydown", S.arrowKey);  // arrows move between a stage's cells
    return { layer, head, removed: how.removed, tokens: ctx.tokens, stages: ctx.stages, show: (which) => N.apply(box, strip, stops, N.find(stops, which)) };
  }

  return { labels, context, show };
})();
