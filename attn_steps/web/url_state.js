/* attn_steps, a widget's state in the page's address (the part after #), so that a copied link reopens the same view.
 *
 * Shared by every widget: each owns a prefix (the explorers e1, e2, … in page order) and keeps
 * its values as prefix.key=value pairs of the hash, percent-encoded as a form is
 * (URLSearchParams), beside any other widget's. read(prefix) gives back that widget's values
 * as strings ({} when the hash holds none, or is a plain #anchor); checking them is the
 * widget's job, with its usual messages. write(prefix, values) replaces them with
 * history.replaceState: no scrolling, no entry in the history per change. window.AttnUrlState.
 */
window.AttnUrlState = window.AttnUrlState || (function () {
  "use strict";

  // The hash as pairs; a hash that is a section's anchor (no "=") holds no state.
  function pairs() {
    const hash = window.location.hash.slice(1);
    return hash.includes("=") ? new URLSearchParams(hash) : new URLSearchParams();
  }

  function read(prefix) {
    const out = {};
    for (const [key, value] of pairs()) {
      if (key.startsWith(prefix + ".")) out[key.slice(prefix.length + 1)] = value;
    }
    return out;
  }

  function write(prefix, values) {
    const all = pairs();
    for (const key of Array.from(all.keys())) if (key.startsWith(prefix + ".")) all.delete(key);
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined && value !== null) all.set(`${prefix}.${key}`, String(value));
    }
    const hash = all.toString();
    history.replaceState(history.state, "", hash ? `#${hash}` : window.location.pathname + window.location.search);
  }

  return { read, write };
})();
