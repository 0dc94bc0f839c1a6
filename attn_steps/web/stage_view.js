/* attn_steps, one stage drawn: the renderer every widget shares (the explorer, the poet's head view).
 *
 * Pure functions from a view context to HTML; no state, no events. A context is
 * { data, tokens, X, W, stages, settings, mask, x_note, source_short }: data holds
 * the book's table of stages (attn_steps/stages.py: formula, kind, caption, note),
 * the colour stops of each kind, the rule for the colour of written values and the
 * pieces of the formulas; stages are explorer_math.js's selfAttention result.
 * Every matrix cell has data-stage, data-row, data-col; a derivation names each
 * term with data-term. window.AttnStage.
 */
window.AttnStage = window.AttnStage || (function () {
  "use strict";

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
    // No "−0" for a value that rounds to zero, as ats.heatmap writes it.
    const minus = (f) => (v) => (Number(f(v)) === 0 ? f(0) : f(v).replace("-", "−"));
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

  // The headings of the book's tables: X's columns from 0 (embed), Q/K/V's q1, k1, v1 … (attention.column_labels).
  function columnLabels(name, n, tokens) {
    if (KEY_COLUMNS.has(name)) return tokens;
    return Array.from({ length: n }, (_, j) => (name === "X" ? String(j) : `${name === "output" ? "z" : name.toLowerCase()}${j + 1}`));
  }

  // One stage as drawn: its numbers, how they are written and coloured, its title and column headings.
  function panel(ctx, stage) {
    const name = stage.name, kind = stage.kind, A = ctx.stages[name];
    // After the mask, a blocked key is grey: −∞ in the masked scores, weight 0 after the softmax.
    const greyWhenBlocked = name === "masked" || name === "weights";
    return { name, kind, A, f: formatter(A, kind), formula: formulaOf(stage, ctx.settings, Boolean(ctx.mask), ctx.data.formula_parts),
             note: name === "X" ? ctx.x_note : stage.note, lim: Math.max(...finite(A).map(Math.abs)),
             colLabels: columnLabels(name, A[0].length, ctx.tokens),
             blocked: (i, j) => Boolean(greyWhenBlocked && ctx.mask && !ctx.mask[i][j]) };
  }

  // A cell's accessible name: first the number it shows (what a reader who sees it would say, WCAG 2.5.3), then
  // where it is as the derivations write it (权重[我, 苹果]), and the exact value when the cell shows it rounded
  // (or 挡住). "0.97（权重[我, 苹果] = 0.972）".
  const SPOKEN = { scores: "分数", scaled: "缩放后的分数", masked: "遮挡后的分数", weights: "权重", output: "输出" };
  function cellName(shown, name, row, col, exact) {
    const more = exact === shown ? "" : exact === "挡住" ? "，挡住" : ` = ${exact}`;
    return esc(`${shown}（${SPOKEN[name] || name}[${row}, ${col}]${more}）`);
  }

  // The roving Tab stop of a stage table: arrow keys move the focus between its cells, as in the explorer.
  // Returns the cell moved to, or null when the key is not an arrow (or there is no cell that way).
  function arrowKey(e) {
    const cell = e.target.closest("td[data-stage]"), moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (!cell || !moves[e.key]) return null;
    e.preventDefault();
    const [di, dj] = moves[e.key];
    const next = cell.closest("table").querySelector(`td[data-row="${Number(cell.dataset.row) + di}"][data-col="${Number(cell.dataset.col) + dj}"]`);
    if (next) { cell.tabIndex = -1; next.tabIndex = 0; next.focus(); }
    return next;
  }

  // One stage's figure: caption, download buttons (when explorer_export.js is on the page) and the table.
  // opts.rowClass(name, i) adds a class to a row (the KV cache marks rows computed earlier).
  function panelHTML(ctx, stage, opts) {
    const { name, kind, A, f, formula, note, lim, colLabels, blocked } = panel(ctx, stage);
    const q = ctx.settings.query, d = ctx.data, tok = ctx.tokens, rowClass = (opts && opts.rowClass) || (() => "");
    const rowsFollow = name !== "K" && name !== "V";
    const withWeight = name === "V";
    let body = "";
    for (let i = 0; i < A.length; i++) {
      const cls = [(rowsFollow && i === q) ? "ae-row-on" : "", rowClass(name, i)].filter(Boolean).join(" ");
      const w = ctx.stages.weights[q][i];
      const lead = withWeight
        ? `<td class="ae-w" style="${colour(d, w, "prob", 1)}" title="${esc(tok[q])} 分给 ${esc(tok[i])} 的权重">${w.toFixed(2)}</td>` : "";
      body += `<tr class="${cls}">` +
        `<th scope="row" data-follow="${i}" title="跟随「${esc(tok[i])}」">${esc(tok[i])}</th>${lead}` +
        A[i].map((v, j) => {
          const off = blocked(i, j), shown = off ? (name === "weights" ? "—" : "−∞") : f(v);
          return `<td role="gridcell" tabindex="-1" data-stage="${name}" data-row="${i}" data-col="${j}"` +
            ` aria-label="${cellName(shown, name, tok[i], colLabels[j], off ? "挡住" : fmt(v))}"` +
            ` style="${off ? "" : colour(d, v, kind, lim)}"${off ? ' class="ae-blocked"' : ""}>${shown}</td>`;
        }).join("") + "</tr>";
    }
    // The corner names the rows (and columns) for a screen reader; a reader who sees the table sees the labels.
    const corner = `<th><span class="ae-sr">${["scores", "scaled", "masked", "weights"].includes(name) ? "查询＼键" : "词"}</span></th>`;
    const head = `<tr>${corner}${withWeight ? `<th class="ae-w">w</th>` : ""}${colLabels.map((c) => `<th scope="col">${esc(c)}</th>`).join("")}</tr>`;
    const take = window.AttnExport ? `<span class="ae-take" role="group" aria-label="下载这一步">${["svg", "png", "csv"].map((fm) =>
      `<button type="button" data-export="${name}" data-format="${fm}" title="下载这一步（${fm.toUpperCase()}）">${fm.toUpperCase()}</button>`).join("")}</span>` : "";
    return `<figure class="ae-panel" data-panel="${name}"><figcaption><b>${esc(formula)}</b> <span>${A.length}×${A[0].length}</span>${take}<small>${esc(note)}</small></figcaption>` +
      `<table role="grid" aria-label="${esc(formula)}">${head}${body}</table></figure>`;
  }

  // One stage to take away (explorer_export.js's model: labels, values, the texts and colours as drawn).
  function exportModel(ctx, stage) {
    const P = panel(ctx, stage), name = stage.name;
    return { name, title: P.formula, note: P.note, source: ctx.source_short, rowLabels: ctx.tokens.slice(),
      colLabels: P.colLabels, values: P.A.map((r) => r.slice()),
      texts: P.A.map((r, i) => r.map((v, j) => (P.blocked(i, j) ? (name === "weights" ? "—" : "−∞") : P.f(v)))),
      fills: P.A.map((r, i) => r.map((v, j) => (P.blocked(i, j) ? "" : colours(ctx.data, v, P.kind, P.lim)[0]))),
      inks: P.A.map((r, i) => r.map((v, j) => (P.blocked(i, j) ? "#424a53" : colours(ctx.data, v, P.kind, P.lim)[1]))) };
  }

  // Where the number in cell (name, i, j) comes from, as HTML: every term of its sum, in the book's words.
  function derivation(ctx, name, i, j) {
    const stages = ctx.stages, W = ctx.W, tok = ctx.tokens, value = stages[name][i][j], M = window.AttnMath;
    const term = (v, text) => `<span class="ae-term" data-term="${v}">${text}</span>`;
    const list = (terms) => `<div class="ae-terms">${terms.join(" + ")}</div>`;
    const col = (n, k) => columnLabels(n, k + 1, tok)[k];
    if (name === "X") {
      if (ctx.explainX) return ctx.explainX(i, j);  // a widget whose X is itself computed says how
      return `<p>${esc(tok[i])} 的嵌入向量在第 ${j} 列（X 的列从 0 数起）的数：${fmt(value)}。</p><p>它在注意力这几步之前就定了：${esc(ctx.source_short)}。</p>`;
    }
    if (name === "Q" || name === "K" || name === "V") {
      const Wm = W["W" + name.toLowerCase()];
      const terms = ctx.X[i].map((x, m) => term(x * Wm[m][j], `${par(x)}×${par(Wm[m][j])}`));
      return `<p><b>${name}[${esc(tok[i])}, ${col(name, j)}]</b> = x<sub>${esc(tok[i])}</sub> · W${name.toLowerCase()}[:, ${col(name, j)}]，逐项相乘再相加：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
    }
    if (name === "scores") {
      const terms = stages.Q[i].map((a, c) => term(a * stages.K[j][c], `${par(a)}×${par(stages.K[j][c])}`));
      return `<p><b>分数[${esc(tok[i])}, ${esc(tok[j])}]</b> = q<sub>${esc(tok[i])}</sub> · k<sub>${esc(tok[j])}</sub>，${stages.Q[i].length} 项：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
    }
    if (name === "scaled") {
      const dk = stages.Q[0].length, tau = ctx.settings.temperature;
      const by = [ctx.settings.scale ? `√${dk} = ${fmt(Math.sqrt(dk))}` : "", tau !== 1 ? `τ = ${fmt(tau)}` : ""].filter(Boolean);
      return `<p><b>缩放后的分数[${esc(tok[i])}, ${esc(tok[j])}]</b> = ${fmt(stages.scores[i][j])}${by.map((b) => ` ÷ ${b}`).join("")} = <b>${fmt(value)}</b></p>` +
        (by.length ? "" : "<p>没有缩放：和分数一样。</p>");
    }
    if (name === "masked") {
      return ctx.mask[i][j]
        ? `<p><b>遮挡后的分数[${esc(tok[i])}, ${esc(tok[j])}]</b> = ${fmt(stages.scaled[i][j])} + 0 = <b>${fmt(value)}</b>：${esc(tok[i])} 可以看 ${esc(tok[j])}。</p>`
        : `<p>${esc(tok[i])} 不许看 ${esc(tok[j])}：遮挡 M 在这里是 −∞，${fmt(stages.scaled[i][j])} + (−∞) = −∞。</p>`;
    }
    if (name === "weights") {
      const row = (stages.masked || stages.scaled)[i], seen = row.map(Number.isFinite);
      const { max, e, sum } = M.softmaxRow(row);
      return seen[j]
        ? `<p><b>权重[${esc(tok[i])}, ${esc(tok[j])}]</b> = exp(s − max) ÷ 这一行的和</p>` +
          `<p>exp(${fmt(row[j])} − ${par(max)}) = ${fmt(e[j])}</p><p>这一行的 exp(s − max)：</p>` +
          list(e.map((v, c) => (seen[c] ? term(v, `${esc(tok[c])} ${fmt(v)}`) : ""))).replace(/( \+ )+/g, " + ") +
          `<p>= ${fmt(sum)}；${fmt(e[j])} ÷ ${fmt(sum)} = <b>${fmt(value)}</b></p>`
        : `<p>${esc(tok[i])} 不许看 ${esc(tok[j])}：遮挡把这个分数换成 −∞，权重是 0。</p>`;
    }
    if (name === "output") {
      const terms = stages.weights[i].map((w, r) => term(w * stages.V[r][j], `${par(w)}×${par(stages.V[r][j])}`));
      return `<p><b>输出[${esc(tok[i])}, z${j + 1}]</b> = Σ<sub>j</sub> w<sub>${esc(tok[i])},j</sub> · v<sub>j</sub>[v${j + 1}]，每个词的值按权重相加：</p>${list(terms)}<p>= <b>${fmt(value)}</b></p>`;
    }
    return "";
  }

  // A derivation's first sentence as plain text: what the live line reads out when the explained cell changes.
  function said(html) {
    const box = document.createElement("div");
    box.innerHTML = html;
    const first = box.querySelector("p");
    return (first ? first.textContent : box.textContent).trim();
  }

  return { colours, colour, formatter, fmt, esc, formulaOf, KEY_COLUMNS, columnLabels, panel, panelHTML,
           exportModel, derivation, cellName, arrowKey, said };
})();
