/* Site list: latest count (marked when it is an analyst's), trend arrow, open alerts. */
"use strict";

(async () => {
  const { el, all, auth, fmtCount, day, TREND } = RW;
  // days at the site (session 31: the API's *_day fields), else UTC days (an older server)
  const at = (d, iso) => d || day(iso);
  const body = document.getElementById("sites-body");
  const status = document.getElementById("status");
  await auth.init();
  if (auth.blocked()) {
    status.textContent = "This server needs its API token: sign in to see the sites.";
    auth.explain(document.getElementById("signin-box"));
    return;
  }
  /** The line under the latest count of a 10 m image: a long train present or not. */
  const presence = (p) => el("div", { class: "muted presence tip", tabindex: "0", title: "10 m image: presence of a long train only, no count of cars (an unreliable flag: right about three times in four on simulated scenes)" },
    `${at(p.day, p.when)}: ${p.long_train_present ? "long train present" : "no long train"}`);
  /** Why a site has no latest count, in words (2026-12-06, session 38: the cell read
   * "– ·", a dash and a trend dot, and a site of unusable images only looked like one
   * not processed yet). */
  const noCount = (s) => {
    if (!s.scenes) return "no images yet";
    if (s.usable) return "no count of cars (10 m images only)";
    if (s.processed < s.scenes) return s.processed ? "not counted yet (no usable image so far)" : "not processed yet";
    return "no usable image: missing data, not 0";
  };
  /** Days from the local day ``a`` to ``b`` (YYYY-MM-DD), or null. */
  const daysBetween = (a, b) => {
    const t = (d) => Date.parse(`${d}T00:00:00Z`);
    const n = Math.round((t(b) - t(a)) / 864e5);
    return Number.isFinite(n) ? n : null;
  };
  /** What the trend arrow compares, in words: "trend: down from 230 on 2024-06-17, 41
   * days before (−23): the last earlier day with a count made the same way" (2026-12-06,
   * session 40: "the previous day's count" of a day six weeks before read as yesterday's,
   * and the words gave no change). */
  const trendWords = (sm) => {
    if (sm.previous_count == null) return `trend: ${sm.trend}`;
    const diff = Math.round((sm.latest_count - sm.previous_count) * 10) / 10;
    const change = diff > 0 ? `+${fmtCount(diff)}` : diff < 0 ? `−${fmtCount(-diff)}` : "±0";
    if (!sm.previous_day) {
      return `trend: ${sm.trend} from ${fmtCount(sm.previous_count)} (${change}), the previous usable count made the same way`;
    }
    const gap = daysBetween(sm.previous_day, sm.latest_day);
    const when = gap === 1 ? "the day before" : gap ? `${gap} days before` : "";
    return `trend: ${sm.trend} from ${fmtCount(sm.previous_count)} on ${sm.previous_day}` +
      `${when ? ", " + when : ""} (${change}): the last earlier day with a count made the same way`;
  };
  try {
    // every site, page by page (one page of 1000 left the others out, under "N sites")
    const sites = await all("/api/sites");
    body.replaceChildren();
    if (!sites.length) {
      status.textContent = "No sites yet: add one with `railwatch site add` or POST /api/sites.";
      return;
    }
    status.textContent = `${sites.length} site${sites.length === 1 ? "" : "s"}`;
    for (const s of sites) {
      const sm = s.summary;
      body.append(
        el("tr", { class: "site-row", dataset: { site: s.name } },
          el("td", {}, el("a", { href: `/sites/${encodeURIComponent(s.name)}` }, s.name),
            s.description ? el("div", { class: "muted" }, s.description) : null),
          // a day and "(N usable)" are never broken across lines (2026-12-06, session 35:
          // beside a long site name they read "2024-07-" over "28" and "(0" over "usable)")
          el("td", { class: "num" }, s.scenes, " ", el("span", { class: "muted nowrap usable" }, `(${s.usable} usable)`)),
          el("td", { class: "nowrap" }, at(s.last_day, s.last)),
          sm.latest_count == null ? el("td", { class: "num latest" }, el("span", { class: "muted no-count" }, noCount(s)),
            sm.latest_presence ? presence(sm.latest_presence) : null) :
          el("td", { class: "num latest" }, fmtCount(sm.latest_count),
            // a 3 m count by occupied track length is of car equivalents, as the site
            // page's chart and image line say (2026-12-06, session 38: a bare "149.1")
            sm.latest_method === "length" ? el("span", { class: "unit car-eq tip", tabindex: "0", title: "3 m images: car equivalents from track length (occupied metres / 14 m), not cars told one by one" }, " car equivalents") : null,
            // an analyst's count (a scene review), not the detector's
            sm.latest_reviewed
              ? el("span", { class: "reviewed-mark tip", tabindex: "0", title: "an analyst's count of that image (a scene review), not the detector's" }, " ✓ analyst")
              : null,
            // the arrow is for the eye; a screen reader reads the words (it read "black
            // up-pointing triangle", the title not at all; session 32); the keyboard
            // reaches the words too (.tip: shown on focus; they showed on hover only)
            ((trend) => el("span", { class: "trend-tip tip", tabindex: "0", title: trend },
              el("span", { class: `trend trend-${sm.trend}`, "aria-hidden": "true" }, " " + TREND[sm.trend]),
              el("span", { class: "sr-only trend-words" }, ` (${trend})`)))(
              // the trend compares the latest day's count with the previous day's made the
              // same way (session 32: the latest image with the image before, of one day too)
              trendWords(sm)),
            el("div", { class: "muted nowrap latest-day" }, at(sm.latest_day, sm.latest_when)),
            // the newest image is a 10 m one: no count, only whether a long train is there
            sm.latest_presence ? presence(sm.latest_presence) : null),
          el("td", { class: "num alerts-cell" },
            sm.open_alerts
              ? ["high", "medium", "low", "info"].filter((sev) => sm.open_by_severity[sev]).map((sev) =>
                // "2 high" under the column "Open alerts" (its hover-only title said the same)
                el("span", { class: `badge badge-${sev}`, dataset: { severity: sev } },
                  `${sm.open_by_severity[sev]} ${sev}`))
              : el("span", { class: "muted" }, "0")),
        ),
      );
    }
  } catch (err) {
    status.textContent = "Cannot load sites: " + err.message;
    status.classList.add("error");
    if (err.status === 401) auth.explain(document.getElementById("signin-box"));
  }
})();
