/* railwatch dashboard: shared helpers (no framework, no network beyond this server). */
"use strict";

const RW = (() => {
  // before session 22 the site page kept the raw token in sessionStorage: forget it
  try { sessionStorage.removeItem("railwatch.token"); } catch (_) { /* storage off */ }

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

  /** fetch JSON from the API; throws Error(problem.detail) on failure. The dashboard
   * is signed in by its session cookie (HttpOnly: this script never sees it), sent by
   * the browser with every request to this server, map tiles included. */
  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    let body = options.body;
    if (body !== undefined && typeof body !== "string") {
      body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    let r;
    try {
      r = await fetch(path, { method: options.method || "GET", headers, body, credentials: "same-origin" });
    } catch (err) {
      // no answer at all (2026-12-06, session 35: the page said "Failed to fetch"): the
      // server stopped, or the network between is down
      const down = new Error(`no answer from the railwatch server at ${location.host} (${err.message}): ` +
        "check that railwatch serve is still running and this computer can reach it, then reload the page");
      down.status = 0;
      throw down;
    }
    const type = r.headers.get("content-type") || "";
    let data;
    try {
      if (r.status === 204) data = null;
      else if (type.includes("json")) {
        const raw = await r.text();
        data = JSON.parse(raw);
        cjkFont.add(raw); // before the page draws its text (cjkFont, below)
      } else data = await r.text();
    } catch (err) {
      // a body cut short (the connection dropped): an error's status says it below
      if (r.ok) throw new Error(`the server's answer to ${path} was cut short (${err.message}): reload the page`);
      data = null;
    }
    if (r.status === 401 && auth.state && auth.state.signed_in) {
      auth.state.signed_in = false; // the session ended (expired, or the server restarted)
      auth.render();
    }
    if (!r.ok) {
      // a problem's own words; else its status, with what to do where nothing says it (a
      // proxy's HTML 502 read "502 Bad Gateway" alone)
      const detail = data && data.detail ? data.detail : `${r.status} ${r.statusText}`.trim() + (r.status >= 500
        ? ": the server (or a proxy in front of it) failed on this request; reload the page, and if it happens again see the server's log"
        : "");
      const err = new Error(detail);
      err.status = r.status;
      err.data = data; // the problem's members (a 409's current alert, say)
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
  /** A count's interval, "62–88", as its alerts and the report word it: a whole count of
   * cars seen one by one (method objects) has its bounds rounded outward to whole cars;
   * car equivalents keep one decimal (2026-12-07, session 45: the page said "62–87.6"
   * beside its alert's "interval 62–88"). */
  const fmtInterval = (total, low, high, method) => {
    if ((method || "objects") === "objects" && typeof total === "number" && Number.isInteger(total)
        && typeof low === "number" && typeof high === "number") {
      return `${fmtCount(Math.floor(low + 1e-9))}–${fmtCount(Math.ceil(high - 1e-9))}`;
    }
    return `${fmtCount(low)}–${fmtCount(high)}`;
  };
  const day = (iso) => (iso ? iso.slice(0, 10) : "–");
  /** The day to show of an API object: its `day`, the local day at its site (the day the
   * analysis groups its images by and its alerts name; session 31), else the UTC day of
   * its `field` (an older server). */
  const localDay = (o, field) => (o && o.day) || day(o && o[field]);
  /** An ISO time as "2024-02-04 22:30 UTC" (the API's times are UTC). */
  const utcTime = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : "–");
  /** "2024-02-05 at the site (UTC+12 nominal); image 2024-02-04 22:30 UTC": what a
   * shown day is, for a tooltip. */
  const dayTitle = (o, field, zone) => o && o.day
    ? `${o.day}: the day at the site${zone ? ` (${zone} nominal)` : ""}` +
      // a silence's time is a day at the site, no image's
      (o.kind === "quality" ? "" : `; image taken ${utcTime(o[field])}`)
    : `${day(o && o[field])} (UTC)`;
  /** Milliseconds east of UTC of a site's nominal zone as the API writes it (`local_zone`:
   * "UTC+12", "UTC-10", "UTC+5:30", "UTC"); 0 for anything else. */
  const zoneOffsetMs = (zone) => {
    const m = /^UTC(?:([+-])(\d{1,2})(?::(\d{2}))?)?$/.exec(zone || "");
    return m && m[1] ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] || 0)) * 6e4 : 0;
  };
  /** The day at the site (its nominal `zone`) of a UTC instant the API gives without a
   * `day` of its own: an acknowledgement's `ack_at`, a review's `reviewed_at`. Every other
   * day on the page is a day at the site (session 31); until 2026-12-06 (session 36)
   * these two were their UTC days, so an alert acknowledged at 22:30 UTC at a UTC+12
   * site read as acknowledged the day before the day it was. The UTC day where the
   * zone is unknown (an older server). */
  const siteDay = (iso, zone) => {
    const t = iso ? Date.parse(iso) : NaN;
    if (Number.isNaN(t) || !zone) return day(iso);
    return new Date(t + zoneOffsetMs(zone)).toISOString().slice(0, 10);
  };
  /** "acknowledged 2024-02-04 22:30 UTC (2024-02-05 at the site, UTC+12 nominal)": what
   * a day of `siteDay` is, for a tooltip. */
  const siteDayTitle = (what, iso, zone) =>
    `${what} ${utcTime(iso)}` + (zone ? ` (${siteDay(iso, zone)} at the site, ${zone} nominal)` : "");
  const pct = (v) => (v === null || v === undefined ? "–" : Math.round(v * 100) + "%");
  const TREND = { up: "▲", down: "▼", flat: "▶", none: "·" };

  /** Sign-in: the token is posted once to /api/session, which answers with a session
   * cookie; the header shows the form or "signed in · Sign out". */
  const auth = {
    state: null,
    /** Ask the server whether this browser is signed in, and draw the header's part. */
    async init() {
      try {
        auth.state = await api("/api/session");
      } catch (err) {
        auth.state = { signed_in: false, reads: "open", writes: "token", token_from: "RAILWATCH_API_TOKEN" };
      }
      auth.render();
      return auth.state;
    },
    /** True when this page cannot read anything until the user signs in. */
    blocked() { return !!auth.state && auth.state.reads === "token" && !auth.state.signed_in; },
    render() {
      const box = document.getElementById("auth");
      if (!box || !auth.state) return;
      const st = auth.state;
      box.dataset.signedIn = st.signed_in ? "1" : "0";
      if (st.signed_in) {
        box.replaceChildren(el("span", { class: "muted signed-in" }, "signed in"), " ",
          el("button", { type: "button", id: "signout", onclick: signOut }, "Sign out"));
        return;
      }
      if (st.writes === "disabled") {
        box.replaceChildren(el("span", { class: "muted tip", tabindex: "0", title: "start railwatch serve with RAILWATCH_API_TOKEN set" },
          "read-only: this server has no API token"));
        return;
      }
      const input = el("input", { id: "token", type: "password", autocomplete: "current-password",
        placeholder: "API token", "aria-label": "API token", required: true });
      const msg = el("span", { id: "signin-msg", class: "error" });
      box.replaceChildren(el("form", { id: "signin", class: "signin", onsubmit: (e) => { e.preventDefault(); signIn(input, msg); } },
        input, el("button", { type: "submit" }, "Sign in"), msg));
    },
    /** Show, in ``where``, that the server needs its token and how to get it. */
    explain(where) {
      const st = auth.state || {};
      where.replaceChildren(el("div", { id: "signin-needed", class: "signin-needed" },
        el("h2", {}, "Sign in to see this server's sites"),
        el("p", {}, "This server is reachable from the network, so reading it needs its API token. " +
          "Type it in the sign-in box at the top right."),
        el("p", {}, "The token is " + (st.token_from || "the RAILWATCH_API_TOKEN of railwatch serve") +
          ": whoever started the server chose it and can give it to you (railwatch serve does not print it)."),
        el("p", { class: "muted" }, "Signing in keeps a session cookie in this browser for " +
          Math.round((st.session_seconds || 43200) / 3600) + " hours (scripts on the page cannot read it, and the " +
          "token never appears in a URL); Sign out ends it. Scripts use the header " +
          "'Authorization: Bearer TOKEN' instead.")));
    },
  };

  async function signIn(input, msg) {
    msg.textContent = "";
    const wasBlocked = auth.blocked();
    try {
      auth.state = await api("/api/session", { method: "POST", body: { token: input.value.trim() } });
    } catch (err) {
      msg.textContent = err.message;
      return;
    }
    if (wasBlocked) { location.reload(); return; } // now the page can load its data
    auth.render();
  }

  async function signOut() {
    try { await api("/api/session", { method: "DELETE" }); } catch (_) { /* ended anyway */ }
    auth.state.signed_in = false;
    if (auth.state.reads === "token") { location.reload(); return; }
    auth.render();
  }

  /** Chinese, Japanese and Korean text where the computer has no font for it (it showed
   * as empty boxes): each such character the page shows is drawn by the computer's own
   * Korean font when it has one of those named here, else by the glyphs of the cjk
   * extra's font that this server cuts for the page's characters (/fonts/cjk.otf?text=,
   * railwatch.web.fonts: 5.6 kB for a Korean site name and event label, where the whole
   * font was 16.4 MB). A stylesheet cannot know the page's text before it is drawn, so
   * this adds a font face "railwatch CJK" (app.css names it after the system fonts) for
   * the characters not asked for yet, its unicode-range those characters: for those of
   * each answer of the API (api() below), before the page draws them, which the browser
   * then fetches as it draws them; and for any other text the page comes to show (a
   * MutationObserver), fetched at once. A page without such text asks for nothing.
   * 2026-12-06, session 37 (app.css had one face of the whole font). */
  const cjkFont = (() => {
    const CJK = /[\u1100-\u11FF\u2E80-\u2FDF\u3000-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA960-\uA97F\uAC00-\uD7FF\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFFEF\u{20000}-\u{2FA1F}]/gu;
    const LOCAL = 'local("Noto Sans CJK KR"), local("NotoSansCJKkr-Regular"), local("Malgun Gothic"), local("Apple SD Gothic Neo")';
    const BATCH = 400; // characters per request (the server takes up to 1000)
    const asked = new Set();
    let timer = null;
    /** Add faces for the characters of ``text`` not asked for yet; ``now``: load them at
     * once (Chromium loads a face added after its text was drawn only so). */
    function add(text, now) {
      if (!text || !document.fonts || typeof FontFace === "undefined") return;
      const fresh = [...new Set(text.match(CJK) || [])].filter((c) => !asked.has(c))
        .sort((a, b) => a.codePointAt(0) - b.codePointAt(0));
      for (let i = 0; i < fresh.length; i += BATCH) {
        const chars = fresh.slice(i, i + BATCH);
        chars.forEach((c) => asked.add(c));
        const url = "/fonts/cjk.otf?text=" + encodeURIComponent(chars.join(""));
        const face = new FontFace("railwatch CJK", `${LOCAL}, url("${url}") format("opentype")`, {
          unicodeRange: chars.map((c) => "U+" + c.codePointAt(0).toString(16).toUpperCase()).join(", "),
          display: "swap",
        });
        document.fonts.add(face);
        const loading = now ? face.load() : face.loaded;
        loading.then(() => redraw(chars),
          () => { /* no such font here (the extra not installed): the system's fonts */ });
      }
    }
    /** Draw again the text holding ``chars`` once their face has loaded: Chromium drew
     * text laid out before it had loaded, and the first text of each font size and
     * weight laid out after, with empty boxes until it was laid out again (2026-12-06,
     * session 37, also with session 36's face of the whole font). A probe of the
     * characters beside each such text is laid out and removed, then the text is set
     * again (a tip's title too). */
    function redraw(chars) {
      const wanted = new Set(chars);
      const has = (t) => !!t && [...t].some((c) => wanted.has(c));
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const nodes = [];
      while (walk.nextNode()) if (has(walk.currentNode.data)) nodes.push(walk.currentNode);
      const probes = nodes.map((node) => {
        const probe = document.createTextNode(chars.join(""));
        node.after(probe);
        return probe;
      });
      void document.body.getBoundingClientRect().height; // laid out with the probes
      probes.forEach((probe) => probe.remove());
      for (const node of nodes) { const text = node.data; node.data = ""; node.data = text; }
      for (const node of document.querySelectorAll("[title]")) {
        const title = node.getAttribute("title");
        if (has(title)) { node.removeAttribute("title"); node.setAttribute("title", title); }
      }
    }
    /** The text the page shows: its text, title and tips (CSS shows a tip's title). */
    function scan() {
      timer = null;
      const parts = [document.title, document.body ? document.body.textContent : ""];
      for (const node of document.querySelectorAll("[title]")) parts.push(node.getAttribute("title"));
      add(parts.join(" "), true);
    }
    function later() { if (timer === null) timer = setTimeout(scan, 30); }
    function watch() {
      scan();
      new MutationObserver(later).observe(document.documentElement,
        { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["title"] });
    }
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
    else watch();
    /** The characters asked for, and whether no scan waits (for the tests). */
    return { add, asked, idle: () => timer === null };
  })();

  return { el, api, all, auth, cjkFont, fmtCount, fmtInterval, day, localDay, utcTime, dayTitle, zoneOffsetMs, siteDay, siteDayTitle, pct, TREND };
})();
