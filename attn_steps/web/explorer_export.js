/* attn_steps explorer export: one stage of the in-browser explorer as CSV, SVG or PNG, to take away.
 *
 * Input, a figure model of one stage: {name, title, note, source, rowLabels, colLabels, values
 * (-Infinity where blocked), texts, fills ("" where blocked), inks}, and optionally index: the
 * CSV's first header cell (default: "token" for X, Q, K, V, else "query", as attention.py names rows).
 * csv writes the bytes Python's Steps.to_csv writes for the same stage; svg and png draw one
 * layout (a list of rects and texts), so they agree. Defines AttnExport (module.exports under Node).
 */
(function (root) {
  "use strict";
  if (root.AttnExport) return;

  const FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  const BLOCKED = "#e6e9ed";  // a blocked cell, grey as in the explorer

  // Every list must fit the labels, or the figure would be silently wrong: say which one does not.
  const size = (a) => (Array.isArray(a) ? a.length : "no");
  function check(model) {
    if (!model || typeof model !== "object") throw new Error("AttnExport: expected a figure model object");
    const { rowLabels: rows, colLabels: cols } = model;
    if (!Array.isArray(rows) || !Array.isArray(cols)) throw new Error("AttnExport: rowLabels and colLabels must be arrays");
    for (const key of ["values", "texts", "fills", "inks"]) {
      const grid = model[key];
      if (size(grid) !== rows.length) throw new Error(`AttnExport: ${key} has ${size(grid)} rows but rowLabels has ${rows.length}`);
      grid.forEach((row, i) => {
        if (size(row) !== cols.length) throw new Error(`AttnExport: ${key} row ${i} (${rows[i]}) has ${size(row)} cells but colLabels has ${cols.length}`);
      });
    }
    return model;
  }

  // Python's repr of a float64, which pandas writes: the same shortest round-trip digits as JS,
  // but fixed notation only for exponents -4..15, "1e-05" style otherwise, and "3.0" not "3".
  function pyFloat(v) {
    if (typeof v !== "number") throw new Error(`AttnExport: a value is not a number: ${v}`);
    if (Number.isNaN(v)) return "";  // pandas' na_rep
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    const sign = v < 0 || Object.is(v, -0) ? "-" : "";
    const [mant, e] = Math.abs(v).toExponential().split("e");  // no argument: shortest digits
    const digits = mant.replace(".", ""), exp = +e;
    if (exp < -4 || exp >= 16) {
      const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
    }
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0"), frac = digits.slice(exp + 1);
    return `${sign}${whole}.${frac || "0"}`;
  }

  // Python's csv.QUOTE_MINIMAL, as pandas uses it.
  const field = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

  // No UTF-8 BOM: the file then equals the one Python writes (to_csv(encoding="utf-8")).
  // Excel needs a BOM to read Chinese from UTF-8; LibreOffice, pandas and editors do not.
  function csv(model) {
    check(model);
    const index = model.index !== undefined ? model.index : (["X", "Q", "K", "V"].includes(model.name) ? "token" : "query");
    const lines = [[index, ...model.colLabels].map((s) => field(String(s))).join(",")];
    model.values.forEach((row, i) => lines.push([field(String(model.rowLabels[i])), ...row.map(pyFloat)].join(",")));
    return lines.join("\n") + "\n";
  }

  // Widths estimated, not measured (no DOM needed; svg and png agree): CJK and
  // full-width characters 1em, the rest at most ~0.62em in the fonts above.
  const textWidth = (s, size) => [...String(s)].reduce((w, c) => w + (c.codePointAt(0) >= 0x2e80 ? 1 : 0.62), 0) * size;
  const widest = (list, size) => Math.max(0, ...list.map((s) => textWidth(s, size)));

  // model -> {width, height, ops}: rects {x, y, w, h, fill}, texts {x, y (middle), text, size, bold, ink, align}.
  function layout(model) {
    check(model);
    const S = 13, INSET = 8, M = 16, CELL_H = 26, LINE = 22;
    const n = model.rowLabels.length, m = model.colLabels.length;
    const heading = `${model.title || model.name || ""}  (${n}×${m})`;
    const cellW = Math.ceil(Math.max(36, widest(model.colLabels, S), ...model.texts.map((r) => widest(r, S))) + 2 * INSET);
    const labelW = Math.ceil(widest(model.rowLabels, S) + 2 * INSET);
    const footer = [model.note, model.source].filter((s) => s);
    const ops = [];
    const text = (x, y, t, size, extra) => ops.push({ x, y, text: String(t), size, bold: false, ink: "#1f2328", align: "start", ...extra });
    let y = M + LINE / 2;
    text(M, y, heading, 16, { bold: true });
    y += LINE / 2 + 6;
    const gx = M + labelW;  // the grid's left edge
    model.colLabels.forEach((c, j) => text(gx + j * cellW + cellW / 2, y + LINE / 2, c, S, { align: "middle", ink: "#57606a" }));
    y += LINE;
    model.rowLabels.forEach((r, i) => {
      const cy = y + i * CELL_H;
      text(M + INSET, cy + CELL_H / 2, r, S, { ink: "#57606a" });
      model.fills[i].forEach((fill, j) => {
        ops.push({ x: gx + j * cellW, y: cy, w: cellW, h: CELL_H, fill: fill || BLOCKED });
        text(gx + j * cellW + cellW / 2, cy + CELL_H / 2, model.texts[i][j], S, { align: "middle", ink: model.inks[i][j] || "#1f2328" });
      });
    });
    y += n * CELL_H + 8;
    footer.forEach((t) => { text(M, y + 9, t, 12, { ink: "#57606a" }); y += 18; });
    const width = Math.ceil(Math.max(gx + m * cellW, M + textWidth(heading, 16), ...footer.map((t) => M + textWidth(t, 12))) + M);
    return { width, height: Math.ceil(y + M - 4), ops };
  }

  // Its own escape (this file also runs alone, without stage_view.js): attributes are in "..."
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

  function svg(model) {
    const { width, height, ops } = layout(model);
    const body = ops.map((o) => (o.w !== undefined
      ? `<rect x="${o.x}" y="${o.y}" width="${o.w}" height="${o.h}" fill="${esc(o.fill)}" stroke="#ffffff"/>`
      : `<text x="${o.x}" y="${o.y}" font-size="${o.size}"${o.bold ? ' font-weight="bold"' : ""} fill="${esc(o.ink)}"` +
        ` text-anchor="${o.align}" dominant-baseline="central">${esc(o.text)}</text>`));
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
      ` font-family="${esc(FONTS)}">\n<title>${esc(`${model.title || model.name} (${model.rowLabels.length}×${model.colLabels.length})`)}</title>\n` +
      `<rect width="100%" height="100%" fill="#ffffff"/>\n${body.join("\n")}\n</svg>\n`;
  }

  // Drawn on a canvas rather than by rasterising the SVG through an <img>: an SVG image cannot
  // reach the page's web fonts, and on the site the CJK glyphs come from one.
  async function png(model, options) {
    const scale = (options && options.scale) || 2;
    const { width, height, ops } = layout(model);
    const family = `${getComputedStyle(document.body).fontFamily}, ${FONTS}`;
    const font = (o) => `${o.bold ? "bold " : ""}${o.size}px ${family}`;
    // A web font (maybe split by unicode-range) loads only what is asked for: ask for these characters.
    const all = ops.filter((o) => o.text !== undefined);
    await Promise.all([...new Set(all.map(font))].map((f) => document.fonts.load(f, all.map((o) => o.text).join("")).catch(() => null)));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext("2d");
    ctx.scale(scale, scale);
    ctx.fillStyle = ctx.strokeStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.textBaseline = "middle";
    for (const o of ops) {
      if (o.w !== undefined) {
        ctx.fillStyle = o.fill;
        ctx.fillRect(o.x, o.y, o.w, o.h);
        ctx.strokeRect(o.x, o.y, o.w, o.h);
      } else {
        ctx.font = font(o);
        ctx.fillStyle = o.ink;
        ctx.textAlign = o.align === "middle" ? "center" : "left";
        ctx.fillText(o.text, o.x, o.y);
      }
    }
    return new Promise((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error("AttnExport: no PNG from the canvas")))));
  }

  // A download without a server: a temporary <a download> on an object URL, revoked later,
  // not at once: some browsers read it only after click() returns.
  function save(data, filename, type) {
    const blob = data instanceof Blob ? data : new Blob([data], { type: type || "text/plain;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // "weights", "csv" -> "attention-weights.csv"; ASCII only, which every file system keeps.
  const fileName = (name, ext) => `attention-${String(name).replace(/[^A-Za-z0-9_-]+/g, "") || "stage"}.${ext}`;

  // A figure's three download buttons; a click handler finds them by data-export (the name) and data-format.
  const buttons = (name) => `<span class="ae-take" role="group" aria-label="下载这一步">${["svg", "png", "csv"].map((fm) =>
    `<button type="button" data-export="${name}" data-format="${fm}" title="下载这一步（${fm.toUpperCase()}）">${fm.toUpperCase()}</button>`).join("")}</span>`;

  // model in format ("csv", "svg" or "png") -> a promise of {filename, data, type}, what save takes.
  function file(model, format) {
    const filename = fileName(model.name, format);
    if (format === "csv") return Promise.resolve({ filename, data: csv(model), type: "text/csv" });
    if (format === "svg") return Promise.resolve({ filename, data: svg(model), type: "image/svg+xml" });
    if (format === "png") return png(model, { scale: 2 }).then((blob) => ({ filename, data: blob, type: "image/png" }));
    return Promise.reject(new Error(`下载的格式要是 svg、png 或 csv；现在是 ${format}`));
  }

  const api = { csv, svg, png, save, fileName, layout, buttons, file };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.AttnExport = Object.freeze(api);
})(typeof globalThis !== "undefined" ? globalThis : this);
