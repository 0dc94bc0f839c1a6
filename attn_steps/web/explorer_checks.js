/* attn_steps explorer, the live checks: what a reader should verify about the softmax and the output, measured.
 *
 * Beside the softmax weights: every row sums to 1 (to TOLERANCE) and every masked
 * cell is exactly 0. Beside the output: each row is a weighted mean of V's rows,
 * i.e. Σ_j w_ij v_j recomputed here term by term equals the output row, and since the
 * weights are ≥ 0 and sum to 1, each output number lies between the smallest and
 * largest number of its column of V. Measured on the numbers on the page, redrawn
 * with them. measure(stages, mask) is the contract for tests (root.attnExplorer.state().checks).
 * window.AttnChecks.
 */
window.AttnChecks = window.AttnChecks || (function () {
  "use strict";
  const TOLERANCE = 1e-12;

  function measure(stages, mask) {
    const W = stages.weights, V = stages.V, out = stages.output;
    let rowSum = 0, maskedCells = 0, maskedMax = 0, negative = 0, meanGap = 0, outside = 0;
    W.forEach((row, i) => {
      rowSum = Math.max(rowSum, Math.abs(row.reduce((a, b) => a + b, 0) - 1));
      row.forEach((w, j) => {
        if (w < 0) negative += 1;
        if (mask && !mask[i][j]) { maskedCells += 1; maskedMax = Math.max(maskedMax, Math.abs(w)); }
      });
      out[i].forEach((o, c) => {
        let mean = 0, lo = Infinity, hi = -Infinity;
        V.forEach((v, j) => { mean += row[j] * v[c]; lo = Math.min(lo, v[c]); hi = Math.max(hi, v[c]); });
        meanGap = Math.max(meanGap, Math.abs(mean - o));
        if (o < lo - TOLERANCE || o > hi + TOLERANCE) outside += 1;
      });
    });
    return { tolerance: TOLERANCE, rowSum, masked: mask ? { cells: maskedCells, max: maskedMax } : null, negative,
             meanGap, outputs: out.length * out[0].length, outside };
  }

  const ok = (good) => (good ? '<b class="ae-ok">✓</b>' : '<b class="ae-bad">✗</b>');
  const sci = (v) => (v === 0 ? "0" : v.toExponential(1).replace("-", "−"));

  // The two boxes: under the weights, and under the output.
  function html(m) {
    const tol = sci(m.tolerance);
    const weights = `<p>检查：每行的权重加起来是 1，与 1 最多差 ${sci(m.rowSum)}（要求 ≤ ${tol}）${ok(m.rowSum <= m.tolerance)}` +
      (m.masked ? `；被遮挡的 ${m.masked.cells} 格，权重最大是 ${sci(m.masked.max)}（要求正好是 0）${ok(m.masked.max === 0)}` : "") +
      `；没有负的权重：${m.negative} 个 ${ok(m.negative === 0)}</p>`;
    const output = `<p>检查：每一行输出是 V 各行的加权平均。按这一行的权重重算 Σ<sub>j</sub> w<sub>ij</sub> v<sub>j</sub>，与输出最多差 ${sci(m.meanGap)}` +
      `（要求 ≤ ${tol}）${ok(m.meanGap <= m.tolerance)}；权重都 ≥ 0、和为 1，所以每个输出数都在 V 那一列的最小值和最大值之间：` +
      `${m.outputs - m.outside} / ${m.outputs} 个 ${ok(m.outside === 0)}</p>`;
    return { weights, output };
  }

  // Append the checks to the strip's weights and output panels (drawn by stage_view.js).
  function attach(strip, stages, mask) {
    const m = measure(stages, mask), boxes = html(m);
    for (const name of ["weights", "output"]) {
      const panel = strip.querySelector(`[data-panel=${name}]`);
      if (panel) panel.insertAdjacentHTML("beforeend", `<div class="ae-check" data-role="check-${name}">${boxes[name]}</div>`);
    }
    return m;
  }

  return { TOLERANCE, measure, html, attach };
})();
