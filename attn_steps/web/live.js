/* attn_steps, a widget of the book live in a Jupyter front end (an anywidget ES module: attn_steps/live.py).
 *
 * The model holds what the page's HTML holds: the widget's <div> with its data (`body`), its
 * scripts (`code`) and styles (`css`), and the global that starts it (`starter`). render() puts
 * the styles and scripts on the page once per version (as the site does: the same files), the <div>
 * into the output, gives it root.attnKernel(path), which asks the kernel for a file the site would
 * serve (files.js), and starts the widget on it. The book's font comes from the kernel too, as a
 * FontFace of the family the widgets' text asks for, so Chinese is drawn with no system font (the chapter's
 * prose and code around it too, once a widget has run).
 * A front end too old for anywidget shows the widget's HTML instead (live.py's bundle).
 */
const FONT = "attn-steps-cjk.otf";
const CJK = "U+2E80-2FFF, U+3000-303F, U+3100-312F, U+3200-33FF, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF";

function once(key, make) {
  const done = (window.AttnLiveDone = window.AttnLiveDone || new Map());
  if (!done.has(key)) done.set(key, make());
  return done.get(key);
}

function addTag(tag, text) {
  const el = document.createElement(tag);
  el.textContent = text;
  document.head.appendChild(el);
}

// Requests to the kernel, answered in order of their number ("ask"); a buffer per answer.
function kernelFiles(model) {
  let asked = 0;
  const waiting = new Map();
  model.on("msg:custom", (msg, buffers) => {
    const w = msg && waiting.get(msg.ask);
    if (!w) return;
    waiting.delete(msg.ask);
    if (msg.error || !buffers || !buffers.length) { w.reject(new Error(msg.error || "内核没有送来文件")); return; }
    const view = buffers[0];  // a DataView (anywidget), or an ArrayBuffer
    const bytes = view instanceof ArrayBuffer ? view : view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
    w.resolve(bytes);
  });
  return (path) => new Promise((resolve, reject) => {
    asked += 1;
    waiting.set(asked, { resolve, reject });
    model.send({ file: String(path), ask: asked });
  });
}

// The book's font, from the kernel, added to the page once: the widgets' text asks for this family first.
function addFont(ask, family) {
  if (typeof FontFace !== "function") return Promise.resolve(null);
  return once("font", () => ask(FONT).then((bytes) => {
    const face = new FontFace(family, bytes, { unicodeRange: CJK });
    return face.load().then(() => { document.fonts.add(face); return face; });
  }).catch(() => null));
}

function render({ model, el }) {
  const id = model.get("code_id"), family = model.get("font_family");
  once(`css:${id}`, () => addTag("style", model.get("css") +
    `\n.attn-live { font-family: "${family}", var(--jp-content-font-family, system-ui), sans-serif; }`));
  // The chapter's own prose and code around the widget get the face too, for Chinese characters only (its
  // unicode-range): on a machine with no Chinese font they would be boxes; with one, it is used first.
  once("page-font", () => addTag("style", `.jp-RenderedMarkdown, .jp-RenderedHTMLCommon { font-family: "${family}", ` +
    `var(--jp-content-font-family, system-ui), sans-serif; }\n.jp-Notebook .cm-content, .jp-RenderedMarkdown pre, ` +
    `.jp-RenderedMarkdown code, .jp-OutputArea-output pre { font-family: "${family}", ` +
    "var(--jp-code-font-family, monospace); }"));
  once(`js:${id}`, () => addTag("script", model.get("code")));
  el.classList.add("attn-live");
  el.innerHTML = model.get("body");
  const root = el.firstElementChild, starter = window[model.get("starter")];
  root.attnKernel = kernelFiles(model);
  root.attnFont = addFont(root.attnKernel, family);
  if (!starter || typeof starter.init !== "function") {
    root.innerHTML = "<p>这个交互图的脚本没有在本页启动（可能是旧版本的脚本已经在页面上）：请刷新页面后重新运行这个单元格。</p>";
    return;
  }
  starter.init(root);
}

export default { render };
