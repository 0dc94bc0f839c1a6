/* attn_steps tile widget: attn_steps/tiles.py's tiled attention, one tile at a time, in the browser.
 *
 * Each root element [data-attn-tiles] holds its data as JSON: tokens, Q, K, V
 * (computed in Python), block sizes, causal. The math below mirrors tiles.py
 * name for name (blockMax, runningMax, rescale, blockExp, runningSum,
 * runningOutput), in float64; the view draws the score grid, the tile being
 * computed, and every query row's m, l and unnormalised O.
 *
 * Contract for tests and scripts: root.attnTiles.state() and .go(k), k tiles done;
 * state().factors are the rescale factors of the last tile's rows that had seen keys before it;
 * after the last tile, state().output is O / l and state().difference its largest gap to data.plain
 * (plain attention from attention.py), both shown under data-role="output".
 * No framework, no network. Safe to include several times on one page.
 */
(function () {
  "use strict";
  if (window.AttnTiles) { window.AttnTiles.initAll(); return; }

  // ---- the math (tiles.py) ------------------------------------------------------

  const blockMax = (row) => Math.max(...row);
  const runningMax = (mOld, mBlock) => Math.max(mOld, mBlock);
  // c = exp(m_old − m_new); 0 before anything was seen (m_old = −∞).
  const rescale = (mOld, mNew) => (mOld === -Infinity ? 0 : Math.exp(mOld - mNew));
  const blockExp = (row, mNew) => row.map((s) => Math.exp(s - (mNew === -Infinity ? 0 : mNew)));
  const runningSum = (lOld, c, p) => c * lOld + p.reduce((a, b) => a + b, 0);
  // O_new = c · O_old + p · V_block, for one query row.
  const runningOutput = (oOld, c, p, vBlock) =>
    oOld.map((o, j) => c * o + p.reduce((acc, pk, k) => acc + pk * vBlock[k][j], 0));

  function blocks(n, size) {
    const out = [];
    for (let s = 0; s < n; s += size) out.push([s, Math.min(s + size, n)]);
    return out;
  }

  // Every tile in FlashAttention-2's order (query blocks outside, key blocks inside), with each row's state.
  function tiledAttention(Q, K, V, bq, bk, causal) {
    const n = Q.length, dk = Q[0].length, dv = V[0].length, root = Math.sqrt(dk);
    const m = new Array(n).fill(-Infinity), l = new Array(n).fill(0);
    const O = Q.map(() => new Array(dv).fill(0));
    const tiles = [], skipped = [];
    blocks(n, bq).forEach(([r0, r1], i) => {
      blocks(n, bk).forEach(([c0, c1], j) => {
        if (causal && c0 > r1 - 1) { skipped.push([i, j]); return; }
        const S = [], rows = [];
        for (let r = r0; r < r1; r++) {
          const s = [];
          for (let c = c0; c < c1; c++) {
            const dot = Q[r].reduce((acc, q, d) => acc + q * K[c][d], 0) / root;
            s.push(causal && c > r ? -Infinity : dot);
          }
          const mNew = runningMax(m[r], blockMax(s));
          const c = rescale(m[r], mNew);
          const p = blockExp(s, mNew);
          const before = { m: m[r], l: l[r] };
          l[r] = runningSum(l[r], c, p);
          O[r] = runningOutput(O[r], c, p, V.slice(c0, c1));
          m[r] = mNew;
          S.push(s);
          rows.push({ row: r, mBefore: before.m, lBefore: before.l, factor: c, m: m[r], l: l[r], O: O[r].slice() });
        }
        tiles.push({ q: i, k: j, rows: [r0, r1], cols: [c0, c1], S, state: rows });
      });
    });
    return { tiles, skipped };
  }

  // m, l, O of every row after the first k tiles, and c: the factor of its last update (null: nothing to rescale yet).
  function stateAfter(run, n, dv, k) {
    const m = new Array(n).fill(-Infinity), l = new Array(n).fill(0), c = new Array(n).fill(null);
    const O = Array.from({ length: n }, () => new Array(dv).fill(0));
    run.tiles.slice(0, k).forEach((t) => t.state.forEach((s) => {
      m[s.row] = s.m; l[s.row] = s.l; O[s.row] = s.O; c[s.row] = s.mBefore === -Infinity ? null : s.factor;
    }));
    return { m, l, O, c };
  }

  // ---- the view -----------------------------------------------------------------

  // −0.04 to one digit is "0.0", never "−0.0": a sign on a zero the reader cannot see is noise.
  const fmt = (v, digits = 2) => (v === -Infinity ? "−∞" : (Number(v.toFixed(digits)) === 0 ? 0 : v).toFixed(digits).replace("-", "−"));
  const largestGap = (A, B) => Math.max(...A.map((row, r) => Math.max(...row.map((v, j) => Math.abs(v - B[r][j])))));

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function init(root) {
    if (root.attnTiles) return;
    const data = JSON.parse(root.querySelector('script[data-role="tiles-data"]').textContent);
    const n = data.tokens.length, dv = data.V[0].length;
    const run = tiledAttention(data.Q, data.K, data.V, data.block_q, data.block_k, data.causal);
    const total = run.tiles.length;
    const tileOf = (r, c) => run.tiles.findIndex((t) => r >= t.rows[0] && r < t.rows[1] && c >= t.cols[0] && c < t.cols[1]);
    let k = 0;

    root.textContent = "";
    root.append(el("p", { class: "at-title" }, data.title), el("p", { class: "at-note" }, data.note));
    const controls = el("div", { class: "at-controls" });
    const buttons = {};
    for (const [name, label] of [["first", "重来"], ["prev", "上一块"], ["next", "下一块"], ["last", "全部算完"]]) {
      buttons[name] = el("button", { type: "button", "data-go": name }, label);
      controls.append(buttons[name]);
    }
    const caption = el("p", { class: "at-caption", "data-role": "caption", "aria-live": "polite" });
    const body = el("div", { class: "at-body" });
    const grid = el("table", { class: "at-grid", "data-role": "grid" });
    const stateTable = el("table", { class: "at-state", "data-role": "state" });
    body.append(el("div", { class: "at-box" }, ""), el("div", { class: "at-box" }, ""));
    body.children[0].append(el("p", { class: "at-head" }, "分数矩阵 Q·Kᵀ/√d_k，按块计算"), grid);
    body.children[1].append(el("p", { class: "at-head" }, "每个查询行的 m、上次的缩放因子 c、l 和未归一化的 O"), stateTable);
    const output = el("div", { class: "at-output", "data-role": "output", hidden: "" });
    const legend = el("p", { class: "at-legend", "data-role": "legend" });
    data.legend.forEach(([cls, role]) => legend.append(el("span", { class: `at-swatch ${cls}`, "data-swatch": cls, "aria-hidden": "true" }), `${role}；`));
    legend.append(data.legend_note);
    root.append(controls, caption, body, output, legend);

    function draw() {
      const st = stateAfter(run, n, dv, k), now = k > 0 ? run.tiles[k - 1] : null;
      grid.textContent = "";
      const head = el("tr");
      head.append(el("th", {}, "查询＼键"));
      data.tokens.forEach((t) => head.append(el("th", { scope: "col" }, t)));
      grid.append(head);
      for (let r = 0; r < n; r++) {
        const tr = el("tr");
        tr.append(el("th", { scope: "row" }, data.tokens[r]));
        for (let c = 0; c < n; c++) {
          const t = tileOf(r, c);
          let cls = "at-wait", text = "";
          if (t < 0) cls = "at-skip";
          else if (t < k) {
            const v = run.tiles[t].S[r - run.tiles[t].rows[0]][c - run.tiles[t].cols[0]];
            cls = t === k - 1 ? "at-now" : "at-done";
            text = v === -Infinity ? "−∞" : fmt(v, 1);
          }
          const td = el("td", { class: cls, "data-row": r, "data-col": c }, text);
          if (t >= 0) td.title = `第 ${t + 1} 块`;
          tr.append(td);
        }
        grid.append(tr);
      }
      stateTable.textContent = "";
      const sh = el("tr");
      ["查询", "m", "c", "l", ...Array.from({ length: dv }, (_, j) => `O${j + 1}`)].forEach((h) => sh.append(el("th", {}, h)));
      stateTable.append(sh);
      for (let r = 0; r < n; r++) {
        const changed = now && r >= now.rows[0] && r < now.rows[1];
        const tr = el("tr", changed ? { class: "at-changed" } : {});
        tr.append(el("th", { scope: "row" }, data.tokens[r]), el("td", { "data-field": "m" }, fmt(st.m[r])),
          el("td", { "data-field": "c" }, st.c[r] === null ? "—" : fmt(st.c[r], 3)), el("td", { "data-field": "l" }, fmt(st.l[r], 3)));
        st.O[r].forEach((o) => tr.append(el("td", {}, fmt(o))));
        stateTable.append(tr);
      }
      if (!now) caption.textContent = `还没有计算任何块：每行 m = −∞，l = 0，O = 0。共 ${total} 块要算` +
        (run.skipped.length ? `，因果遮挡整块挡住的 ${run.skipped.length} 块跳过不算。` : "。");
      else {
        // A row's first visible block has nothing summed yet to rescale: its factor is no number to read.
        const seen = now.state.filter((s) => s.mBefore !== -Infinity);
        const factors = seen.map((s) => `${data.tokens[s.row]} ${fmt(s.factor, 3)}`).join("、");
        caption.textContent = `第 ${k} 块（共 ${total} 块）：查询 ${now.rows[0] + 1}–${now.rows[1]} × 键 ${now.cols[0] + 1}–${now.cols[1]}。` +
          (seen.length ? `缩放因子 exp(m旧 − m新)：${factors}（1 表示最大值没变）` : "这几行第一次读到键，m 从 −∞ 变成这一块的最大值，没有以前的和要缩放") +
          (k === total ? "。全部算完：输出 = O / l。" : "。");
      }
      drawOutput(st);
      const had = document.activeElement;
      buttons.first.disabled = buttons.prev.disabled = k === 0;
      buttons.next.disabled = buttons.last.disabled = k === total;
      // A button the keyboard was on, now disabled (下一块 at the end): the focus moves to one that still works.
      if (had && had.disabled && Object.values(buttons).includes(had)) (k === 0 ? buttons.next : buttons.prev).focus();
    }

    // After the last tile: the output O / l, and how far it is from plain attention (one softmax per whole row).
    function drawOutput(st) {
      output.hidden = k !== total;
      output.textContent = "";
      if (k !== total) return;
      const out = st.O.map((row, r) => row.map((o) => o / st.l[r])), gap = largestGap(out, data.plain);
      const table = el("table", { class: "at-state" }), head = el("tr");
      ["查询", ...Array.from({ length: dv }, (_, j) => `输出${j + 1}`)].forEach((h) => head.append(el("th", {}, h)));
      table.append(head);
      out.forEach((row, r) => {
        const tr = el("tr");
        tr.append(el("th", { scope: "row" }, data.tokens[r]));
        row.forEach((v) => tr.append(el("td", {}, fmt(v, 3))));
        table.append(tr);
      });
      output.append(el("p", { class: "at-head" }, "全部算完：输出 = O / l（每行除以自己的 l）"), table,
        el("p", { "data-role": "difference" }, `和不分块、整行一次 softmax 算出的注意力（attention.py）相比，逐格最大相差 ${gap.toExponential(1)}：` +
          "按块算没有近似，只差浮点舍入。"));
    }

    function go(target) {
      if (!Number.isInteger(target) || target < 0 || target > total) {
        throw new RangeError(`k must be a whole number from 0 to ${total} (tiles done), got ${target}`);
      }
      k = target;
      draw();
      return api.state();
    }
    const finite = (a) => a.map((v) => (v === -Infinity ? null : v));
    const api = {
      go,
      state() {
        const st = stateAfter(run, n, dv, k);
        const now = k > 0 ? run.tiles[k - 1].state : [];
        const out = { k, total, skipped: run.skipped.length, m: finite(st.m), l: st.l, O: st.O,
          factors: now.filter((s) => s.mBefore !== -Infinity).map((s) => s.factor),
          output: k === total ? st.O.map((row, r) => row.map((o) => o / st.l[r])) : null };
        if (out.output) out.difference = largestGap(out.output, data.plain);
        return out;
      },
    };
    controls.addEventListener("click", (e) => {
      const name = e.target.getAttribute && e.target.getAttribute("data-go");
      if (!name) return;
      go({ first: 0, prev: Math.max(0, k - 1), next: Math.min(total, k + 1), last: total }[name]);
    });
    root.attnTiles = api;
    draw();
  }

  window.AttnTiles = {
    init,  // one widget on its <div> (the live widget in Jupyter starts its own: live.js)
    initAll() { document.querySelectorAll("[data-attn-tiles]").forEach(init); },
    tiledAttention,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", window.AttnTiles.initAll);
  else window.AttnTiles.initAll();
})();
