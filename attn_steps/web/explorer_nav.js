/* attn_steps, the navigator: one stop of stages at a time (X → Q/K/V → 分数 → … → 输出), or all of them.
 *
 * Stages sharing stages.py's `stop` label (Q, K and V) form one stop. Buttons carry
 * data-stop (an index, or "all"); panels carry data-panel (a stage name). Shared by
 * every widget that draws a strip of stages. window.AttnNav.
 */
window.AttnNav = window.AttnNav || (function () {
  "use strict";
  const esc = window.AttnStage.esc;

  // The stops, in reading order: consecutive stages with one `stop` label go together.
  function stopsOf(stageRows) {
    const stops = [];
    stageRows.forEach((s) => {
      const last = stops[stops.length - 1];
      if (last && last.label === s.stop) last.names.push(s.name);
      else stops.push({ label: s.stop, names: [s.name] });
    });
    return stops;
  }

  function html(stops) {
    return `<div class="ae-nav" data-role="nav" role="group" aria-label="选一步来看">` +
      stops.map((st, k) => `${k ? '<span class="ae-arrow" aria-hidden="true">→</span>' : ""}<button type="button" data-stop="${k}" aria-pressed="false">${esc(st.label)}</button>`).join("") +
      `<button type="button" data-stop="all" class="ae-all-button" aria-pressed="false" title="所有步骤排成一行，左右滚动">全部</button></div>`;
  }

  // The stop to show for `which` (a stop's label, a stage's name, or "all"); a Chinese error otherwise.
  function find(stops, which) {
    if (which === "all") return "all";
    const k = stops.findIndex((st) => st.label === which || st.names.includes(which));
    if (k < 0) throw new Error(`没有「${which}」这一步；可选：${stops.map((st) => st.label).join("、")}、all`);
    return k;
  }

  // Show stop `view` (an index or "all") in strip; mark its button pressed in root.
  function apply(root, strip, stops, view) {
    const all = view === "all";
    strip.classList.toggle("ae-all", all);
    strip.querySelectorAll(".ae-panel").forEach((p) => { p.hidden = !all && !stops[view].names.includes(p.dataset.panel); });
    root.querySelectorAll("[data-stop]").forEach((b) => {
      const on = b.dataset.stop === "all" ? all : !all && Number(b.dataset.stop) === view;
      b.setAttribute("aria-pressed", String(on));
    });
  }

  return { stopsOf, html, find, apply };
})();
