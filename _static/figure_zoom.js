/* A figure drawn smaller than it was made (a panorama shrunk to the text column) opens full size on a click.
 * Only output images of notebook cells; each becomes a link to its own file, so the browser shows it
 * at its natural size, and the reader zooms and scrolls as with any image. No network: the file is the page's. */
(function () {
  "use strict";
  function wrap(img) {
    if (img.closest("a") || !img.naturalWidth) return;
    if (img.naturalWidth <= img.clientWidth * 1.05) return;  // already shown at (about) full size
    const link = document.createElement("a");
    link.href = img.currentSrc || img.src;
    link.className = "figure-full-size";
    link.title = "点击查看原尺寸的图";
    img.replaceWith(link);
    link.append(img);
  }
  function all() {
    document.querySelectorAll(".cell_output img").forEach((img) => {
      if (img.complete) wrap(img); else img.addEventListener("load", () => wrap(img), { once: true });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all); else all();
})();
