/* attn_steps, where a widget's files come from: the book's site, or the kernel of a Jupyter front end.
 *
 * On the built site a file under _static/ is fetched from the site's root (Sphinx writes it on
 * <html data-content_root>). In JupyterLab, Notebook 7, VS Code or Colab there is no site: the
 * live widget (live.js) puts root.attnKernel(path) on the widget's <div>, and the kernel answers
 * with the same bytes under the same name (attn_steps/live.py). A page that has neither (a saved
 * page opened from disk) gets NOWHERE, in Chinese.
 * where(root): "kernel", "site" or null. get(root, path) → Promise of an ArrayBuffer;
 * json(root, path) → Promise of the parsed file. siteRoot(): the site's root URL, or null.
 * Defines AttnFiles; explorer_typing.js, poet_files.js and explorer_stage0.js call it.
 */
(function () {
  "use strict";
  if (window.AttnFiles) return;
  const NOWHERE = "这里既不是本书的网站，也没有连着 Jupyter 的内核，读不到这个交互图要用的文件：" +
    "请在本书的网站上打开本页，或者在 Jupyter（JupyterLab、Notebook 7）里运行这个单元格。";

  // The site's root: Sphinx writes it on <html data-content_root>; older themes have documentation_options.js.
  function siteRoot() {
    const root = document.documentElement.dataset.content_root;
    if (root !== undefined) return new URL(root, document.baseURI).href;
    const s = document.querySelector('script[src*="_static/documentation_options.js"]');
    return s ? s.src.replace(/_static\/documentation_options\.js.*$/, "") : null;
  }

  function where(root) {
    if (root && typeof root.attnKernel === "function") return "kernel";
    return siteRoot() === null ? null : "site";
  }

  function get(root, path) {
    const from = where(root);
    if (from === "kernel") return root.attnKernel(path);
    if (from === null) return Promise.reject(new Error(NOWHERE));
    return fetch(new URL(path, siteRoot()).href).then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.arrayBuffer();
    });
  }

  const json = (root, path) => get(root, path).then((b) => JSON.parse(new TextDecoder().decode(b)));

  window.AttnFiles = Object.freeze({ where, get, json, siteRoot, NOWHERE });
})();
