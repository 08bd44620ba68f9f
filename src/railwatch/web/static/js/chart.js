/* Count chart drawn as SVG: counts with their interval (an analyst's count, from a
   scene review, as a larger green point), gaps for unusable images,
   events as dashed lines, alerts as red rings, a silence (a quality alert, no image) as a
   red ▼ over its day; 10 m presence images (no count, only
   whether a long train is present) in a marker row under the axis, never on it;
   clicking a point or marker selects its image. The keyboard reaches every mark (points,
   presence markers, events, silences) through one tab stop: arrow keys move in time
   order, each mark's details shown beside it and given as its label, Enter or Space does
   what a click does (session 32). With presence markers, a note under the chart says
   what their row is (the chart's aria-describedby; it was a hover-only tooltip). */
"use strict";

const RWChart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...kids) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) n.setAttribute(k, v);
    for (const k of kids) n.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return n;
  }

  /** Draw into `host`; points: [{when, count, low, high, usable, scene_id,
      long_train_present, reviewed}] of one class (a point with long_train_present true or false is
      a presence image: a marker in the row under the axis, ▲ long train seen, ○ none);
      alerts: those of that class (the caller picks them), each marked in red on its
      image's point. With no points the events are still drawn on an empty time axis.
      Each point is labelled by its `day` (its local day at the site, the day its alerts
      name), its tooltip giving the image's UTC time and `zone` (the site's nominal
      zone, "UTC+12"); an event's line is at noon of its day at the site. Alerts are
      marked on their images' points; a silence (a `quality` alert: no image, its `day` a
      day at the site) as the report's chart marks it, a ▼ at the top of the plot at noon
      of its day (grey and smaller when info only), its tooltip the day and explanation;
      it takes the keyboard focus, and a click, Enter or Space calls onAlert(alert) (the
      site page brings the alert forward in its panel).

      Keyboard (2026-12-05, session 32; before, only the silence marks took the focus,
      each its own tab stop, and a point could be reached with a mouse only): the chart
      is one tab stop, whatever the number of images (hundreds of tab stops would be
      hundreds of Tab presses to get past it), the roving-tabindex pattern of a toolbar.
      ←/→ (↑/↓) move to the previous/next mark in time order, PageUp/PageDown ten marks,
      Home/End the first/last; each mark's label (aria-label) is its tooltip's text, with
      its alerts and interval, and the same text is shown beside it, with a ring around
      it, while it has the keyboard focus; Enter or Space opens a point's image (onPick)
      or brings a silence's alert forward (onAlert); an event is read only. The arrows
      stop here (the site page's ←/→ step through the images elsewhere). The tab stop is
      the first mark, then the mark last focused or clicked, or the point of the image
      last selected (select) while the focus is outside the chart. A mouse click opens
      without taking the focus, so the page's ←/→ step the images after it as before
      (review, 2026-12-05, session 32). Returns {select(id)}. */
  let notes = 0; // the chart notes' ids, one a drawing
  /** Rows of event labels at the top of the plot, at most. */
  const EVENT_LABEL_ROWS = 2;

  function draw(host, points, { events = [], alerts = [], onPick = () => {}, onAlert = () => {}, zone = null, record = null } = {}) {
    // a point's day: its local day at the site (`day`, the day its alerts name; session
    // 31), else its UTC day; the tooltip gives the image's time, in UTC
    const dayOf = (p) => p.day || p.when.slice(0, 10);
    // `record`: {items, years, method} of GET /api/sites/{site}/baseline, or null
    const recordYears = record && record.years;
    const recordOf = record && record.method === "length" ? "car equivalents (3 m)" : "cars counted one by one";
    const taken = (p) => ` · image taken ${p.when.slice(0, 10)} ${p.when.slice(11, 16)} UTC` +
      (p.day ? ` (${p.day} at the site${zone ? `, ${zone} nominal` : ""})` : "");
    // at least 280 px: a 320 px phone gives the chart 296 (320 made its page scroll
    // sideways by 12 px; session 34)
    const W = Math.max(280, host.clientWidth || 600), H = 220;
    const isPresence = (p) => p.usable && p.long_train_present !== null && p.long_train_present !== undefined;
    const presence = points.some(isPresence);
    // images with no count (unusable, or a class their method cannot tell) are marked in
    // a row just under the axis, never on its zero line, where they read as counts of 0
    // (2026-12-06, session 35; the report's chart marks them under its axis too)
    const uncounted = points.some((p) => !isPresence(p) && !(p.usable && p.count !== null));
    // a row of its own under the axis for presence markers (above the date ticks)
    const m = { l: 40, r: 30, t: 12, b: (presence ? 46 : 28) + (uncounted ? 14 : 0) };
    const laneY = H - 27;
    const noCountY = H - m.b + 13;
    // a group, not an image: its silence marks take the keyboard focus
    const svg = s("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "group", "aria-label": "count chart" });
    // the mark that had the keyboard focus before a redraw (another class, the analyst's
    // review sent) has it again after
    const refocus = host.contains(document.activeElement) ? document.activeElement.dataset.key : undefined;
    // the details of the mark with the keyboard focus, shown beside it (its tooltip's text:
    // a native tooltip shows on hover only)
    const tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.hidden = true;
    tip.setAttribute("aria-hidden", "true"); // its text is the focused mark's label, read already
    Object.assign(tip.style, { position: "absolute", pointerEvents: "none", zIndex: "1000" });
    if (getComputedStyle(host).position === "static") host.style.position = "relative";
    host.replaceChildren(svg, tip);
    /** The marks the keyboard reaches: {node, time, order, activate} (order: points, then
     * events, then silences, where they share a time). */
    const marks = [];
    const reach = (node, time, order, label, activate = null) => {
      node.setAttribute("tabindex", "-1");
      node.setAttribute("role", activate ? "button" : "img");
      node.setAttribute("aria-label", label);
      node.classList.add("mark");
      marks.push({ node, time, order, activate });
    };
    const t = (p) => Date.parse(p.when);
    // an event's date is a local day at the site: drawn at noon of that day at the site
    // (`zone` "UTC+12", "UTC-10", "UTC+5:30"), as the report's chart draws it, among the
    // images of its day (until 2026-12-05, session 31: at that day's midnight UTC)
    const zm = /^UTC(?:([+-])(\d{1,2})(?::(\d{2}))?)?$/.exec(zone || "");
    const offsetMs = zm && zm[1] ? (zm[1] === "-" ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3] || 0)) * 6e4 : 0;
    const dayNoon = (day) => Date.parse(`${day}T12:00:00Z`) - offsetMs;
    const eventTimes = events.map((e) => dayNoon(e.date)).filter(Number.isFinite);
    // a silence's (quality) `day` is a day at the site (its `when` that day's local
    // midnight in UTC, no image's time): drawn at noon of that day, as the report's
    // chart draws it; one mark a day (session 31: the dashboard did not mark silences)
    const silenceDays = new Map();
    for (const a of alerts) {
      if (a.kind !== "quality") continue;
      const d = a.day || String(a.when || "").slice(0, 10);
      if (!Number.isFinite(dayNoon(d))) continue;
      if (!silenceDays.has(d)) silenceDays.set(d, []);
      silenceDays.get(d).push(a);
    }
    const silenceTimes = [...silenceDays.keys()].map(dayNoon);
    if (!points.length && !eventTimes.length && !silenceTimes.length) { svg.append(s("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" }, "no processed images")); return { select() {} }; }
    let t0, t1;
    if (points.length) {
      t0 = Math.min(...points.map(t)); t1 = Math.max(...points.map(t));
      for (const te of eventTimes) if (te >= t0 - 864e5 * 60 && te <= t1 + 864e5 * 60) { t0 = Math.min(t0, te); t1 = Math.max(t1, te); }
    } else {  // no image yet: the events alone set the time axis
      t0 = Math.min(...eventTimes, ...silenceTimes); t1 = Math.max(...eventTimes, ...silenceTimes);
    }
    // a silence is of this series, on or after its last usable image: always on the axis
    for (const ts of silenceTimes) { t0 = Math.min(t0, ts); t1 = Math.max(t1, ts); }
    if (t1 - t0 < 864e5 * 60 && !points.length) { t0 -= 864e5 * 30; t1 += 864e5 * 30; }
    if (t1 === t0) { t0 -= 864e5; t1 += 864e5; }
    // the trailing record a record alert compares with, at each counted image of the
    // site total's main method (GET /api/sites/{site}/baseline; `record`: its items), as
    // the report's chart draws it (2026-12-07, session 50: not drawn, nothing on the page
    // showed the five years' record the 2023 counts were judged against)
    const recs = ((record && record.items) || []).filter((b) => typeof b.record === "number" && Number.isFinite(Date.parse(b.when)))
      .sort((a, b) => Date.parse(a.when) - Date.parse(b.when));
    // scaled to the counts and the record, not to the intervals, as the report's chart
    // (2026-12-07, session 50: to the intervals' tops, the demo's axis ran to 391 for
    // counts of at most 230, and its five years under 20 cars lay flat on the zero line);
    // a bar that runs higher is cut at the top of the plot, its interval in its details
    const ytop = Math.max(1, ...points.map((p) => p.count ?? 0), ...recs.map((b) => b.record));
    const ymax = ytop * 1.12;
    // a bar is cut a little over the highest count, under the event labels' rows
    const cut = ytop * 1.04;
    const x = (v) => m.l + ((v - t0) / (t1 - t0)) * (W - m.l - m.r);
    const y = (v) => H - m.b - (v / ymax) * (H - m.t - m.b);
    // axes and grid
    // a whole 1, 2 or 5 × 10^k, five or six lines (session 50: steps of 55 or 65 cars)
    const step = Math.max(1, [1, 2, 5].map((k) => k * 10 ** Math.floor(Math.log10(ymax / 6)))
      .concat([10 ** (Math.floor(Math.log10(ymax / 6)) + 1)]).find((v) => v >= ymax / 6));
    for (let v = 0; v <= ymax; v += step) {
      svg.append(s("line", { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(s("text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, v));
    }
    // the year and month ticks stand at the site's local midnights, as the report's chart
    // (session 32; they stood at UTC midnights: at UTC+12 the image of 10:00 on the
    // local 1 March stood before the tick "2024-03", at UTC-12 one of 23:30 on the local
    // 29 February after it)
    const years = new Date(t0 + offsetMs).getUTCFullYear(), yearsEnd = new Date(t1 + offsetMs).getUTCFullYear();
    const span = t1 - t0;
    // every k-th month (year) only, k the least of these whose ticks stand a label's width
    // (11 px digits: "2024-02" 46 px, "2024" 28 px) and 10 px apart: on a phone every
    // month's label ran into the next ("2024-022024-03...", 2026-12-07, session 45)
    const every = (unitMs, labelPx) => {
      const px = ((W - m.l - m.r) * unitMs) / span;
      return [1, 2, 3, 4, 6, 12, 24, 60, 120].find((k) => px * k >= labelPx + 10) || 240;
    };
    if (span > 864e5 * 400) {
      const k = every(365.25 * 864e5, 28);
      for (let yr = years; yr <= yearsEnd + 1; yr++) {
        const tv = Date.UTC(yr, 0, 1) - offsetMs;
        if (tv < t0 || tv > t1 || yr % k) continue;
        svg.append(s("text", { x: x(tv), y: H - 8, "text-anchor": "middle", class: "tick" }, yr));
      }
    } else {
      // d: the site's wall clock, written as if it were UTC
      const d = new Date(t0 + offsetMs); d.setUTCHours(0, 0, 0, 0); d.setUTCDate(1); d.setUTCMonth(d.getUTCMonth() + 1);
      const k = every(30.44 * 864e5, 46);
      for (; d.getTime() - offsetMs <= t1; d.setUTCMonth(d.getUTCMonth() + 1)) {
        if (d.getUTCMonth() % k) continue;
        svg.append(s("text", { x: x(d.getTime() - offsetMs), y: H - 8, "text-anchor": "middle", class: "tick" }, d.toISOString().slice(0, 7)));
      }
    }
    // events
    const labelled = []; // [left, right, row] of the event labels drawn
    let unlabelled = 0; // events drawn whose label had no room
    const offAxis = [];
    for (const e of [...events].sort((a, b) => dayNoon(a.date) - dayNoon(b.date))) {
      const te = dayNoon(e.date);
      if (!Number.isFinite(te)) continue;
      // an event more than 60 days from the images is left off the axis (it would squeeze
      // the series): named under the chart instead (2026-12-06, session 38: it was left
      // out without a word, so a page showed no sign of an event before the first image)
      if (te < t0 || te > t1) { offAxis.push(e); continue; }
      const line = s("line", { x1: x(te), x2: x(te), y1: m.t, y2: H - m.b, class: "event" }, s("title", {}, `${e.date} ${e.label}`));
      line.dataset.date = e.date;
      line.dataset.key = `event:${e.date}:${e.label}`;
      reach(line, te, 1, `event ${e.date} at the site: ${e.label}`);
      svg.append(line);
      // the label right of its line, or left of it where it would run past the plot; on
      // the next row down where it would cover an earlier label (session 38: two events
      // days apart wrote their labels over each other, unreadable)
      const label = s("text", { x: x(te) + 3, y: m.t + 10, class: "event-label", "aria-hidden": "true" }, e.label);
      svg.append(label);
      let width = 0, height = 0;
      try { width = label.getComputedTextLength(); height = label.getBBox().height; } catch (_) { /* not laid out */ }
      if (!width) width = 6 * e.label.length;
      const rowH = Math.max(12, Math.ceil(height) + 1);
      let left = x(te) + 3;
      if (left + width > W - 2 && x(te) - 3 - width >= m.l) {
        left = x(te) - 3 - width;
        label.setAttribute("x", left);
      }
      let row = 0;
      while (labelled.some(([l, r, k]) => k === row && left < r + 4 && left + width > l - 4)) row += 1;
      // at most EVENT_LABEL_ROWS rows, in the headroom over the counts: 25 events in five
      // years stacked their labels 9 rows deep, over the counts and alerts of half the
      // plot (2026-12-07, session 48). A label with no room is left off; its line keeps
      // its event in its tooltip and keyboard label, and the note under the chart says so
      if (row >= EVENT_LABEL_ROWS) { label.remove(); unlabelled += 1; continue; }
      labelled.push([left, left + width, row]);
      label.setAttribute("y", m.t + 10 + row * rowH);
      label.dataset.row = String(row);
    }
    if (unlabelled) {
      const note = document.createElement("p");
      note.className = "muted chart-note chart-events-unlabelled";
      note.textContent = `${unlabelled} of the events drawn ${unlabelled === 1 ? "has" : "have"} no label (no room beside the others): ` +
        "hover over a dashed line, or Tab to the chart and move to it, to read its event.";
      host.append(note);
    }
    if (offAxis.length) {
      const note = document.createElement("p");
      note.className = "muted chart-note chart-events-off";
      note.textContent = "Events off the chart's time span (more than 60 days from its images): " +
        offAxis.map((e) => `${e.date} ${e.label} (${dayNoon(e.date) < t0 ? "before" : "after"} the images shown)`).join("; ");
      host.append(note);
    }
    if (recs.length && points.length) {
      // a step: each image's record held until the next image's (drawn from the first
      // image judged against one)
      const d = recs.map((b, i) => {
        const x0 = x(Date.parse(b.when)), yv = y(b.record);
        const x1 = i + 1 < recs.length ? x(Date.parse(recs[i + 1].when)) : x0;
        return `${i ? "L" : "M"}${x0},${yv} L${x1},${yv}`;
      }).join(" ");
      // said in the key under the chart (a title on it would be the mouse's alone)
      svg.append(s("path", { d, class: "record", "aria-hidden": "true" }));
    }
    const usable = points.filter((p) => p.usable && p.count !== null);
    // interval band as whiskers, then the line
    for (const p of usable) {
      if (p.low !== null && p.high !== null && p.high > p.low)
        svg.append(s("line", { x1: x(t(p)), x2: x(t(p)), y1: y(Math.min(p.low, cut)), y2: y(Math.min(p.high, cut)),
          class: "whisker" + (p.high > cut ? " whisker-cut" : "") }));
    }
    // the line joins the counts of consecutive usable images only: an unusable image
    // between two counts is a gap in it, missing data (2026-12-06, session 35: the line
    // ran through a month of cloudy images as if they had been counted)
    const runs = [[]];
    for (const p of [...points].sort((a, b) => t(a) - t(b))) {
      if (p.usable && p.count !== null && !isPresence(p)) runs[runs.length - 1].push(p);
      else if (!p.usable && runs[runs.length - 1].length) runs.push([]);
    }
    for (const run of runs) {
      if (run.length > 1)
        svg.append(s("polyline", { points: run.map((p) => `${x(t(p))},${y(p.count)}`).join(" "), class: "series" }));
    }
    // every alert given is of the series drawn (site.js passes the chosen class's own);
    // a point whose alerts are all info only is grey, as the report's chart and the
    // silence marks draw them (2026-12-06, session 35: red, like a high record)
    const alertScenes = new Set(alerts.filter((a) => a.severity !== "info").map((a) => a.scene_id));
    const infoScenes = new Set(alerts.filter((a) => a.severity === "info" && !alertScenes.has(a.scene_id)).map((a) => a.scene_id));
    // what a red point's colour says, in its tooltip and label: "alert: high spike"
    const alertWords = (p) => {
      const on = alerts.filter((a) => a.scene_id === p.scene_id && a.kind !== "quality");
      return on.length ? ` · alert${on.length > 1 ? "s" : ""}: ${on.map((a) => `${a.severity} ${a.kind}`).join(", ")}` : "";
    };
    const nodes = new Map();
    if (presence) {
      // what the row is, in words under the chart (the chart's description): it was the
      // "10 m" label's tooltip, shown on hover only (2026-12-05, session 32)
      const words = "10 m row: ▲ long train seen, ○ no long train (10 m images: no count of cars; an unreliable flag, right about three times in four on simulated scenes)";
      svg.append(s("text", { x: m.l - 6, y: laneY + 4, "text-anchor": "end", class: "tick lane-label", "aria-hidden": "true" }, "10 m"));
      const note = document.createElement("p");
      note.className = "muted chart-note";
      note.id = `chart-note-${++notes}`;
      note.textContent = words;
      host.append(note);
      svg.setAttribute("aria-describedby", note.id);
    }
    for (const p of points) {
      let g;
      if (isPresence(p)) {
        // a 10 m image says only whether a long train is present: no count, no point on the axis
        const seen = Boolean(p.long_train_present);
        g = s("text", { x: x(t(p)), y: laneY + 4, "text-anchor": "middle", class: "pt pt-presence " + (seen ? "pt-train" : "pt-notrain") }, seen ? "▲" : "○");
        g.append(s("title", {}, `${dayOf(p)}: ${seen ? "long train seen" : "no long train"} (10 m image: presence only, no count of cars; an unreliable flag)${taken(p)}`));
      } else if (p.usable && p.count !== null) {
        // an analyst's count (a scene review): a larger green point, said in its title
        // its interval (the whisker) and alerts (its red) said in words too (session 32)
        // one decimal, as the line under the map writes them (RW.fmtCount; the title showed
        // the stored 13.29 or 190.93 where the page said 13.3 and 190.9; session 33)
        const num = (v) => (Math.round(v * 10) / 10).toString();
        // the bounds of a whole count of cars in whole cars, as its alerts and RW.fmtInterval
        // word them (session 45: "62–87.6" beside "interval 62–88"; this file stands alone)
        const whole = (p.method || "objects") === "objects" && Number.isInteger(p.count);
        const lo = whole ? Math.floor(p.low + 1e-9) : p.low, hi = whole ? Math.ceil(p.high - 1e-9) : p.high;
        const interval = p.low !== null && p.high !== null && p.high > p.low ? ` (${num(lo)}–${num(hi)})` : "";
        g = s("circle", { cx: x(t(p)), cy: y(p.count), r: p.reviewed ? 5 : 4,
          // a count by occupied track length hollow, as the report's chart draws it apart
          // from cars seen one by one (2026-12-07, session 45: the same dot on one line)
          class: "pt" + (p.method === "length" ? " pt-length" : "") + (p.reviewed ? " pt-reviewed" : "") + (alertScenes.has(p.scene_id) ? " pt-alert" : infoScenes.has(p.scene_id) ? " pt-alert-info" : "") },
          // a count by occupied track length (3 m) is of car equivalents (session 33), an
          // analyst's too: the review form asks for car equivalents there and the site list
          // says so (2026-12-06, session 38: its point said "railcars")
          s("title", {}, `${dayOf(p)}: ${num(p.count)} ${p.method === "length" ? "car equivalents" : "railcars"}` + (p.reviewed ? " (analyst's count ✓)" : interval) +
            // a count over part of the site is of that part (session 35)
            (typeof p.coverage === "number" && p.coverage < 0.98 ? ` · of the ${Math.round(p.coverage * 100)}% of the site the image covers` : "") + alertWords(p) + taken(p)));
      } else if (p.usable) {
        // a usable image whose count cannot tell this class (a type from occupied length)
        g = s("text", { x: x(t(p)), y: noCountY, "text-anchor": "middle", class: "pt pt-untold" }, "·");
        g.append(s("title", {}, `${dayOf(p)}: counted by ${p.method ?? "?"}, which cannot tell this class${taken(p)}`));
      } else {
        g = s("text", { x: x(t(p)), y: noCountY, "text-anchor": "middle", class: "pt pt-unusable" }, "×");
        g.append(s("title", {}, `${dayOf(p)}: unusable image (not counted)${taken(p)}`));
      }
      g.dataset.scene = p.scene_id;
      g.dataset.date = dayOf(p);
      g.dataset.key = `scene:${p.scene_id}`;
      g.addEventListener("click", () => onPick(p.scene_id));
      reach(g, t(p), 0, g.querySelector("title").textContent + " · Enter opens this image", () => onPick(p.scene_id));
      svg.append(g);
      nodes.set(p.scene_id, g);
    }
    // silences: a ▼ at the top of the plot over their day, red (grey, smaller: info only)
    for (const [d, group] of silenceDays) {
      const xs = x(dayNoon(d));
      const info = group.every((a) => a.severity === "info");
      const k = info ? 4 : 6;
      const text = group.map((a) => `${d} at the site${zone ? ` (${zone} nominal)` : ""}: silence, ${a.severity} — ${a.explanation}`).join("\n");
      const mark = s("path", {
        d: `M${xs - k},${m.t - k} L${xs + k},${m.t - k} L${xs},${m.t + k} Z`,
        class: "silence" + (info ? " silence-info" : ""),
      }, s("title", {}, text));
      mark.dataset.date = d;
      mark.dataset.alert = group.map((a) => a.id).join(" ");
      mark.dataset.key = `silence:${d}`;
      mark.addEventListener("click", () => onAlert(group[0]));
      reach(mark, dayNoon(d), 2, text, () => onAlert(group[0]));
      svg.append(mark);
    }
    // the keyboard: one tab stop (the roving tabindex), the marks in time order
    marks.sort((a, b) => a.time - b.time || a.order - b.order);
    const ring = s("rect", { class: "focus-ring", fill: "none", stroke: "#ffe14d", "stroke-width": 2, "pointer-events": "none", "aria-hidden": "true" });
    ring.style.display = "none";
    svg.append(ring);
    let stop = null;
    const tabStop = (node) => {
      if (stop) stop.setAttribute("tabindex", "-1");
      stop = node;
      if (stop) stop.setAttribute("tabindex", "0");
    };
    tabStop(marks.length ? marks[0].node : null);
    const show = (node) => {
      const b = node.getBBox();
      const pad = 4;
      Object.entries({ x: b.x - pad, y: b.y - pad, width: b.width + 2 * pad, height: b.height + 2 * pad })
        .forEach(([k, v]) => ring.setAttribute(k, v));
      ring.style.display = "";
      tip.textContent = node.getAttribute("aria-label");
      tip.hidden = false;
      // beside the mark: under it in the upper half of the plot, over it in the lower
      const left = Math.max(0, Math.min(W - tip.offsetWidth, b.x + b.width / 2 - tip.offsetWidth / 2));
      const below = b.y + b.height / 2 < H / 2;
      tip.style.left = `${left}px`;
      tip.style.top = `${below ? Math.min(b.y + b.height + pad + 2, H) : Math.max(0, b.y - pad - 2 - tip.offsetHeight)}px`;
    };
    const hide = () => { ring.style.display = "none"; tip.hidden = true; };
    // each mark's own focus and blur (a focusin listener on the <svg> made Chromium put
    // the <svg> itself in the tab order, checked in Chromium 156)
    for (const { node } of marks) {
      // a mouse press does not take the focus (the click still opens the image): the
      // page's ←/→ then step the images, as before the chart took the keyboard; the
      // arrows move between marks only for the keyboard that came in by Tab. A click
      // focused the mark, and → after it moved the ring, not to the next image (review,
      // 2026-12-05, session 32). The mark pressed is the tab stop; a focus anywhere
      // (a mark, a button) goes, as a press on the chart left none before.
      node.addEventListener("mousedown", (e) => {
        if (e.button !== 0) return;
        e.preventDefault();
        tabStop(node);
        const had = document.activeElement;
        if (had instanceof HTMLElement || had instanceof SVGElement) had.blur();
      });
      node.addEventListener("focus", () => {
        tabStop(node);
        // the ring and details for the keyboard (a click shows the selection)
        if (node.matches(":focus-visible")) show(node); else hide();
      });
      node.addEventListener("blur", hide);
    }
    svg.addEventListener("keydown", (e) => {
      const i = marks.findIndex((k) => k.node === e.target);
      if (i < 0 || e.altKey || e.ctrlKey || e.metaKey) return;
      const to = {
        ArrowLeft: i - 1, ArrowUp: i - 1, ArrowRight: i + 1, ArrowDown: i + 1,
        PageUp: i - 10, PageDown: i + 10, Home: 0, End: marks.length - 1,
      }[e.key];
      if (to !== undefined) {
        e.preventDefault();
        e.stopPropagation(); // not the page's ←/→ (the previous/next image)
        marks[Math.max(0, Math.min(marks.length - 1, to))].node.focus();
      } else if ((e.key === "Enter" || e.key === " ") && marks[i].activate) {
        e.preventDefault();
        e.stopPropagation();
        marks[i].activate();
      }
    });
    if (refocus !== undefined) {
      const again = marks.find((k) => k.node.dataset.key === refocus);
      if (again) again.node.focus();
    }
    if (!points.length) svg.append(s("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" }, "no processed images"));
    // images but no count to draw: say why over the empty plot (2026-12-06, session 35:
    // a site whose images were all unusable showed an empty plot and its × marks on 0)
    else if (!usable.length && !presence) {
      const unusable = points.filter((p) => !p.usable).length;
      svg.append(s("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" },
        unusable === points.length
          ? `no usable image yet: ${unusable === 1 ? "its image is" : `all ${unusable} images are`} unusable (×), missing data, not counts of 0`
          : "no count of this class: its images were counted by a method that cannot tell it (·)"));
    }
    // what the marks mean, in words under the chart, the marks drawn only (2026-12-06,
    // session 35: said in each mark's tooltip only, so a red point, a grey ×, a dashed
    // line or a ▼ told the eye nothing at a glance)
    const drawn = (sel) => svg.querySelector(sel) !== null;
    const KEY = [
      [".pt:not(.pt-presence):not(.pt-unusable):not(.pt-untold)", "key-count", "●",
        "count, its interval as a bar" + (drawn(".whisker-cut") ? " (cut at the top where it runs higher: its numbers in the point's details)" : "")],
      [".pt-length", "key-length", "○", "car equivalents (occupied track length)"],
      [".pt-alert", "key-alert", "●", "alert (high, medium or low)"],
      [".pt-alert-info", "key-info", "●", "info alert only"],
      [".pt-reviewed", "key-reviewed", "●", "analyst's count (larger, dark ring)"],
      [".pt-unusable", "key-unusable", "×", "unusable image: not counted (a gap in the line)"],
      [".pt-untold", "key-untold", "·", "counted by a method that cannot tell this class"],
      ["path.record", "key-record", "╌", `trailing record${recordYears ? ` (${recordYears} years)` : ""} of the ${recordOf}` +
        (recs.length ? `, ${Math.round(recs[recs.length - 1].record * 10) / 10} at the latest` : "") +
        ": what a record alert compares with (during a run of records, the record before it)"],
      ["line.event", "key-event", "┆", "event"],
      [".silence", drawn(".silence:not(.silence-info)") ? "key-silence" : "key-info", "▼", "silence (no count for too long: no usable image, or none able to count cars)"],
    ].filter(([sel]) => drawn(sel));
    if (KEY.length) {
      const key = document.createElement("p");
      key.className = "muted chart-key";
      for (const [, cls, glyph, words] of KEY) {
        const item = document.createElement("span");
        item.className = "key-item";
        const sw = document.createElement("span");
        sw.className = `key-sw ${cls}`;
        sw.setAttribute("aria-hidden", "true");
        sw.textContent = glyph;
        item.append(sw, ` ${words}`);
        key.append(item, " ");
      }
      host.insertBefore(key, tip);
    }
    return {
      select(id) {
        for (const [sid, n] of nodes) {
          n.classList.toggle("selected", sid === id);
          if (sid === id) n.setAttribute("aria-current", "true"); else n.removeAttribute("aria-current");
        }
        // the tab stop is the image shown, unless the keyboard is in the chart already
        if (nodes.has(id) && !svg.contains(document.activeElement)) tabStop(nodes.get(id));
      },
    };
  }
  return { draw };
})();
