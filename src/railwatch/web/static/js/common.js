/* railwatch dashboard: shared helpers (no framework, no network beyond this server). */
"use strict";

const RW = (() => {
  const TOKEN_KEY = "railwatch.token";

  /** Create an element; text children are inserted as text (never parsed as HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
  function setToken(t) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
  }

  /** fetch JSON from the API; throws Error(problem.detail) on failure. */
  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    const t = token();
    if (t) headers.Authorization = "Bearer " + t;
    let body = options.body;
    if (body !== undefined && typeof body !== "string") {
      body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const r = await fetch(path, { method: options.method || "GET", headers, body });
    const type = r.headers.get("content-type") || "";
    const data = type.includes("json") ? await r.json() : await r.text();
    if (!r.ok) {
      const detail = data && data.detail ? data.detail : r.status + " " + r.statusText;
      const err = new Error(detail);
      err.status = r.status;
      throw err;
    }
    return data;
  }

  /** Every item of a paginated list (follows offsets). */
  async function all(path, pageSize = 1000) {
    const sep = path.includes("?") ? "&" : "?";
    let offset = 0;
    const items = [];
    for (;;) {
      const page = await api(`${path}${sep}limit=${pageSize}&offset=${offset}`);
      items.push(...page.items);
      offset += page.items.length;
      if (!page.items.length || offset >= page.total) return items;
    }
  }

  const fmtCount = (v) => (v === null || v === undefined ? "–" : (Math.round(v * 10) / 10).toString());
  const day = (iso) => (iso ? iso.slice(0, 10) : "–");
  const pct = (v) => (v === null || v === undefined ? "–" : Math.round(v * 100) + "%");
  const TREND = { up: "▲", down: "▼", flat: "▶", none: "·" };

  return { el, api, all, token, setToken, fmtCount, day, pct, TREND };
})();
