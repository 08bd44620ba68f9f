/* Site page: map (site polygon, image tiles, detections, the track a 3 m count read as
   occupied: GET /api/scenes/{id}/occupied), image stepper, count chart, alerts,
   the images to check first (GET /api/sites/{site}/to-review), and the analyst's review of
   the selected image (their own count, or its cars downloaded, corrected and sent back:
   PUT /api/scenes/{id}/review), and the removal of an image ingested by mistake
   (DELETE /api/scenes/{id}). */
"use strict";

(async () => {
  const { el, api, all, auth, fmtCount, fmtInterval, localDay, dayTitle, siteDay, siteDayTitle, pct } = RW;
  const name = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
  const enc = encodeURIComponent(name);
  // the report's colours (railwatch.report.style, served as /style.js): a class looks
  // the same on the map as on a report's chips (2026-12-07, session 45: this page had a
  // palette of its own, pink a car of unsure type in a report and a container here)
  const COLOURS = RW_STYLE.classes;
  const colour = (c) => COLOURS[c] || RW_STYLE.other;
  /** The stretches of track a count by occupied length (3 m) read as occupied. */
  const OCCUPIED = RW_STYLE.occupied;
  const $ = (id) => document.getElementById(id);

  const state = { scenes: [], index: -1, tiles: null, dets: null, occ: null, chart: null, events: [], alerts: [], cls: "all", seq: 0, chartSeq: 0, recordDrawn: null };

  await auth.init();
  if (auth.blocked()) {
    // nothing can be read before signing in: say so and how (map tiles too need it)
    document.body.classList.add("signed-out");
    auth.explain($("signin-box"));
    $("scene-info").textContent = "This server needs its API token: sign in to see this site.";
    document.body.dataset.ready = "1";
    return;
  }
  const map = L.map("map", { preferCanvas: true, zoomSnap: 0.25, attributionControl: false });
  const canvas = L.canvas({ padding: 0.3 });
  // a few lines per image: SVG paths (each one element, with its tooltip)
  const svg = L.svg({ padding: 0.3 });

  function legend(tracks = false) {
    $("legend").replaceChildren(
      el("h3", {}, "Legend"),
      ...Object.entries(COLOURS).map(([c, col]) =>
        el("span", { class: "lg" }, el("i", { style: `border-color:${col}` }), c)),
      el("span", { class: "lg" }, el("i", { class: "covered" }), "covered load (dashed)"),
      el("span", { class: "lg tip", tabindex: "0", title: "3 m images counted by occupied track length: the stretches the count read as occupied (their lengths are listed under the map, longest first; hover one on the map for its own)" },
        el("i", { class: "occupied", style: `border-color:${OCCUPIED}` }), "track read as occupied"),
      el("span", { class: "lg" }, el("i", { class: "site" }), "site"),
      // the grey lines the map draws where the site has them (2026-12-07, session 45: the
      // legend did not name them)
      ...(tracks ? [el("span", { class: "lg" }, el("i", { class: "track" }), "track centreline")] : []),
    );
  }

  /** Whether the site is gone from the database (removed since the page was opened:
   * `railwatch site remove`, or the API's DELETE; a new name is a new site). */
  async function siteGone() {
    try { await api(`/api/sites/${enc}`); return false; } catch (err) { return err.status === 404; }
  }
  const GONE = `site ${name} is no longer in the database (removed since this page was opened): see the site list`;

  /** A request of the page's loading failed: say why (the page stayed on "Loading…"). */
  async function failed(err, opened = true) {
    // a site the page never opened (a mistyped address) is not "removed since": the API's
    // own words name the sites there are (2026-12-06, session 35)
    const gone = opened && err.status === 404 && await siteGone();
    $("scene-info").replaceChildren(el("span", { class: "error load-error" },
      "Cannot load site: " + (gone ? GONE : err.message) + " "), el("a", { href: "/" }, "site list"));
    if (err.status === 401) auth.explain($("signin-box"));
    document.body.dataset.ready = "1";
  }

  let site;
  try {
    site = await api(`/api/sites/${enc}`);
  } catch (err) {
    await failed(err, false);
    return;
  }
  document.title = `railwatch · ${site.name}`;
  $("site-name").textContent = site.name;
  $("site-desc").textContent = site.description || "";
  const sitePoly = L.geoJSON(site.geometry, { renderer: canvas, interactive: false,
    style: { color: "#ffe14d", weight: 2, fill: false, dashArray: "6 4" } });
  if (site.tracks) L.geoJSON(site.tracks, { renderer: canvas, interactive: false, style: { color: "#888", weight: 1 } }).addTo(map);
  sitePoly.addTo(map);
  map.fitBounds(sitePoly.getBounds(), { padding: [20, 20] });
  legend(Boolean(site.tracks));

  /** A request started now and awaited later, where its failure is handled (marked
   * handled here: one the page never awaits is no unhandled rejection). */
  const early = (promise) => { promise.catch(() => {}); return promise; };
  /** How many images the "Images to check" panel lists. */
  const TO_REVIEW = 10;
  /** How long (ms) after the last resize event the chart is drawn again. */
  const RESIZE_SETTLE_MS = 250;

  // Every list the page shows is asked for now, together (before session 24 one after
  // another, each once the one before had arrived and been drawn). The scenes come
  // without their footprints (a quarter of the list, a third of the server's work on
  // it): a scene's footprint is read when the scene is shown (footprintOf).
  const pending = {
    scenes: early(all(`/api/sites/${enc}/scenes`)),
    events: early(all(`/api/sites/${enc}/events`)),
    alerts: early(all(`/api/sites/${enc}/alerts`)),
    counts: early(all(`/api/sites/${enc}/counts?class=all`, 10000)),
    classes: early(api(`/api/sites/${enc}/counts?limit=1`)),
    toReview: early(api(`/api/sites/${enc}/to-review?limit=${TO_REVIEW}`)),
    // the site total's trailing record, drawn on its chart (session 50; baselineNow); an
    // older server without it draws none
    baseline: null,
  };
  /** The site total's baseline and record (GET /api/sites/{site}/baseline), asked for
   * once until askBaseline says it may have changed; null where it cannot be had. Asked
   * for only when the total's chart is drawn: it takes seconds at thousands of images
   * (review, 2026-12-07, session 50: asked again after every review, removal and
   * analysis, with a class's chart shown too). Its ETag makes the browser's copy answer
   * while nothing it depends on has changed. */
  const baselineNow = () => (pending.baseline ||= api(`/api/sites/${enc}/baseline`).catch(() => null));
  /** The baseline and record may have changed (a review, a removal, an analysis): asked
   * for again when the total's chart is next drawn. */
  const askBaseline = () => { pending.baseline = null; };
  baselineNow(); // the page opens on the site total's chart
  let scenes, events;
  try {
    [scenes, events] = await Promise.all([pending.scenes, pending.events]);
  } catch (err) {
    await failed(err);
    return;
  }
  state.scenes = scenes;
  state.events = events;
  /** The image the page opens with: the one named in the address, else the latest processed one. */
  function startIndex() {
    const fromHash = scenes.findIndex((sc) => String(sc.id) === location.hash.slice(1));
    if (fromHash >= 0) return fromHash;
    for (let i = scenes.length - 1; i >= 0; i--) if (scenes[i].status === "processed") return i;
    return scenes.length - 1;
  }
  // its detections and footprint are asked for now, beside the chart and the alerts
  if (scenes.length) {
    const first = scenes[startIndex()];
    state.prefetched = { id: first.id, detections: early(detectionsOf(first)) };
    early(footprintOf(first));
  }

  /** A presence image (10 m and coarser) has no count of cars, only its long-train flag. */
  const isPresence = (count) => count && count.long_train_present !== null && count.long_train_present !== undefined;
  const presenceText = (count) => (count.long_train_present ? "long train present" : "no long train");

  /** An analyst's count (a scene review) of a scene, and the detector's it replaced. */
  const isReviewed = (sc) => Boolean(sc.reviewed && sc.count);
  const detectorText = (sc) => sc.detector_count
    ? `the detector's: ${fmtCount(sc.detector_count.total)} (${fmtInterval(sc.detector_count.total, sc.detector_count.low, sc.detector_count.high, sc.count && sc.count.method)})`
    : "the detector found none";

  /** What a detector's count counts: a count by occupied track length (1.5–10 m) is of
   * car equivalents (occupied metres / 14 m), as its alerts and the report call it; the
   * page said "railcars" and "cars" for it (2026-12-05, session 33). An analyst's count
   * of such an image is a total in car equivalents too (the review form asks for one;
   * 2026-12-06, session 38: it said "railcars"); of an image counted car by car, railcars. */
  const unitOf = (count) => (count && count.method === "length" ? "car equivalents" : "railcars");

  /** Bring `node` into view inside `box`, the list that scrolls it, never scrolling the
   * page (scrollIntoView scrolls every ancestor): on a phone, where the column's lists are
   * under the chart, opening the site scrolled the page 337 px down to the list of images,
   * past the header, and opening an image with an alert jumped the page to that alert
   * (2026-12-05, session 33). A box that does not scroll (the alerts on a phone) is left. */
  function showIn(box, node) {
    if (!node || box.scrollHeight <= box.clientHeight) return;
    const b = box.getBoundingClientRect();
    const r = node.getBoundingClientRect();
    if (r.top < b.top) box.scrollTop -= b.top - r.top;
    else if (r.bottom > b.bottom) box.scrollTop += Math.min(r.bottom - b.bottom, r.top - b.top);
  }

  /** A failed coarse image of a site without track centrelines (``needs_tracks``): not
   * counted, its file not at fault, as `railwatch process` and `scene list` say it
   * (2026-12-06, session 40: the page showed it as a plain failure). */
  const needsTracks = (sc) => sc.status === "failed" && Boolean(sc.needs_tracks);
  // the API's request, as the API words the scene's error (web.errors.API_COMMANDS); it
  // named the CLI's `railwatch site edit NAME --tracks FILE` (2026-12-06, session 41)
  const tracksCommand = () => `PATCH /api/sites/${site.name} with them as \`tracks\``;
  const needsTracksText = () => `not counted, the site has no track centrelines (give them: ${tracksCommand()})`;

  /** A length count read along track lines found in the image itself (the site had no
   * track centrelines when it was counted: ``railwatch:coarse`` ``tracks`` ``found`` in
   * its metadata): far less accurate, as `railwatch process`, `scene show` and the report
   * say (2026-12-07, session 48: the page gave it as any other count). */
  const foundLines = (sc) => sc.status === "processed" && Boolean(sc.count) && sc.count.method === "length" &&
    !isReviewed(sc) && ((sc.metadata || {})["railwatch:coarse"] || {}).tracks === "found";
  const foundLinesText = () => "read along track lines found in the image, far less accurate than along " +
    `the site's track centrelines (it had none when this image was counted; give them: ${tracksCommand()}, then process the site again)`;

  function sceneLabel(sc) {
    if (sc.status === "unusable") return "unusable";
    if (needsTracks(sc)) return "needs track centrelines";
    if (sc.status !== "processed") return sc.status;
    if (isPresence(sc.count)) return sc.count.long_train_present ? "long train" : "no long train";
    if (isReviewed(sc)) return `${fmtCount(sc.count.total)} ✓ analyst`;
    return sc.count ? `${fmtCount(sc.count.total)} ${sc.count.method === "length" ? "car equivalents" : "cars"}` : "–";
  }

  /** A scene's entry in the list: its title says why it is unusable, or the image and,
   * for an analyst's count, the detector's beside it (on hover). */
  function sceneTitle(sc) {
    const reason = needsTracks(sc) ? needsTracksText() : (sc.quality.causes || []).join("; ");
    const base = reason || `${sc.sensor || "image"}, ${sc.gsd} m`;
    // what its day is (the day's own title, inside the button: the keyboard never reached
    // it; session 32)
    const when = ` · ${dayTitle(sc, "acquired_at", site.local_zone)}`;
    return (isReviewed(sc) ? `${base} · analyst's count; ${detectorText(sc)}` : base) + when;
  }

  /** Draw a scene's entry in the list as the scene is now. */
  function drawEntry(sc) {
    const button = list.querySelector(`button[data-scene="${sc.id}"]`);
    if (!button) return;
    button.className = `scene ${sc.status}${isReviewed(sc) ? " reviewed" : ""}${button.classList.contains("active") ? " active" : ""}`;
    button.title = sceneTitle(sc);
    button.querySelector(".c").textContent = sceneLabel(sc);
  }

  const list = $("scenes");
  // one Tab stop, the entry of the image shown (a roving tabindex, as the chart's): ↑ / ↓
  // (← / →) open the image before / after, PageUp / PageDown ten, Home / End the first /
  // last, the focus following (2026-12-07, session 50: each entry was a tab stop, 223 Tab
  // presses past the demo's images to reach the alerts)
  list.setAttribute("aria-label", "images of the site (↑ / ↓ step through them)");
  list.replaceChildren(...scenes.map((sc) => el("li", {},
    el("button", {
      type: "button", class: `scene ${sc.status}${isReviewed(sc) ? " reviewed" : ""}`, tabindex: "-1",
      dataset: { date: localDay(sc, "acquired_at"), scene: sc.id }, title: sceneTitle(sc),
      // by the scene, not its place: a removal moves the images after it up the list
      onclick: () => select(scenes.indexOf(sc)),
    }, el("span", { class: "d" }, localDay(sc, "acquired_at")), el("span", { class: "c" }, sceneLabel(sc))))));
  list.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || !(e.target instanceof Element) || !e.target.closest("button.scene")) return;
    const to = { ArrowUp: state.index - 1, ArrowDown: state.index + 1, PageUp: state.index - 10,
      PageDown: state.index + 10, Home: 0, End: scenes.length - 1 }[e.key];
    if (to === undefined) return; // ← / →: the page's own keys (below), the focus following
    e.preventDefault(); // not the list's own scrolling
    select(Math.max(0, Math.min(scenes.length - 1, to)));
  });
  $("slider").max = Math.max(0, scenes.length - 1);
  // a drag of the slider is one step back in the history, not one per image it passed:
  // its first image makes the entry, the next ones replace it until it is let go
  let sliding = false;
  $("slider").addEventListener("input", (e) => { select(Number(e.target.value), sliding ? "replace" : "push"); sliding = true; });
  // a drag is over when the slider is let go, also where it ends where it began (no
  // "change" then, and the next step would have replaced the entry; session 46 review)
  for (const ev of ["change", "pointerup", "keyup", "blur"]) {
    $("slider").addEventListener(ev, () => { sliding = false; });
  }
  $("prev").addEventListener("click", () => select(state.index - 1));
  $("next").addEventListener("click", () => select(state.index + 1));
  document.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    // the map's own arrows pan it (Leaflet's keyboard); Alt+← is the browser's Back
    // (2026-12-06, session 35: ← on the focused map panned it and opened the image before)
    if (e.altKey || e.ctrlKey || e.metaKey || (e.target instanceof Element && e.target.closest("#map"))) return;
    if (e.key === "ArrowLeft") select(state.index - 1);
    if (e.key === "ArrowRight") select(state.index + 1);
  });

  function nativeZoom(sc) {
    const lat = (site.bounds[1] + site.bounds[3]) / 2;
    return Math.max(1, Math.min(22, Math.ceil(Math.log2((156543.03 * Math.cos(lat * Math.PI / 180)) / sc.gsd))));
  }

  /** The detections of a scene (those asked for when the page loaded, for its first image). */
  function detectionsOf(sc) {
    const pre = state.prefetched;
    state.prefetched = null;
    if (pre && pre.id === sc.id) return pre.detections;
    return api(`/api/scenes/${sc.id}/detections?limit=50000`);
  }

  /** A scene as ``/api/scenes/{id}`` gives it (footprint, counts per class, review),
   * read once, when it is first shown (again after the analyst changes its review). */
  function sceneOf(sc) {
    if (!sc.fullP) {
      sc.fullP = api(`/api/scenes/${sc.id}`);
      sc.fullP.catch(() => { sc.fullP = null; }); // asked again next time
    }
    return sc.fullP;
  }

  /** A scene's footprint (its tiles' bounds). */
  function footprintOf(sc) { return sceneOf(sc).then((full) => full.footprint); }

  function showTiles(sc, footprint) {
    if (state.tiles) map.removeLayer(state.tiles);
    // A footprint across 180° (a MultiPolygon split there) has bounds from -180 to 180:
    // kept so. Leaflet wraps each tile's bounds into -180..180 before testing them
    // against these, so bounds shifted beyond 180 (+360) drop the tiles on the far side
    // of 180° from the map's view (checked in Chromium: a site east of 180° lost its image).
    const fb = L.geoJSON(footprint).getBounds();
    state.tiles = L.tileLayer(`/api/scenes/${sc.id}/tiles/{z}/{x}/{y}.png`, {
      bounds: fb, maxNativeZoom: nativeZoom(sc), maxZoom: 22, minZoom: 3, tileSize: 256,
    });
    const tilesFor = sc.id;
    state.tiles.on("load", () => { if (state.scenes[state.index]?.id === tilesFor) document.body.dataset.tiles = String(tilesFor); });
    delete document.body.dataset.tiles;
    // a tile the server could not draw for its image's sake (the file moved or deleted
    // since ingest, or damaged): the reason under the map, once per image (2026-12-07,
    // session 45: the map stayed black without a word); a tile at the image's edge that
    // holds none of it is no fault (asked about at most 3 times an image)
    let asked = 0;
    state.tiles.on("tileerror", async (ev) => {
      if (asked >= 3 || state.scenes[state.index]?.id !== tilesFor || $("tile-error")) return;
      asked += 1;
      try {
        await api(new URL(ev.tile.src).pathname);
        return; // drawn when asked again: a passing failure
      } catch (err) {
        if (err.status === 404 && /^tile /.test(err.message)) return;
        if (state.scenes[state.index]?.id !== tilesFor || $("tile-error")) return;
        asked = 3;
        $("scene-info").append(el("span", { id: "tile-error", class: "warn" }, ` · image not shown: ${err.message}`));
      }
    });
    state.tiles.addTo(map);
    state.tiles.bringToBack();
  }

  /** Under this share of the site an image covers part of it (the report's PARTIAL_COVERAGE). */
  const PARTIAL = 0.98;
  /** The share of the site a scene covers (its quality's, else its ingest's), or null. */
  const coverageOf = (sc) => {
    const c = sc.quality && sc.quality.coverage !== null && sc.quality.coverage !== undefined ? sc.quality.coverage : sc.coverage;
    return typeof c === "number" ? c : null;
  };

  /** The info line of a scene: date, count (or why unusable), clear fraction, coverage, GSD. */
  function infoLine(sc) {
    const q = sc.quality;
    return [
      el("strong", { class: "scene-day tip", tabindex: "0", title: dayTitle(sc, "acquired_at", site.local_zone) }, localDay(sc, "acquired_at")), " · ",
      sc.status === "processed" && isPresence(sc.count)
        ? el("span", { class: "presence" }, `${presenceText(sc.count)} (${sc.count.method}: 300 m of occupied track or more; no count of cars at this resolution)`)
        : sc.status === "processed" && isReviewed(sc)
        ? el("span", { class: "reviewed-count" }, `${fmtCount(sc.count.total)} ${unitOf(sc.count)} `,
          el("span", { class: "reviewed-mark" }, "✓ analyst's count"), ` (${detectorText(sc)}, ${sc.count.method})`)
        : sc.status === "processed" && sc.count
        ? `${fmtCount(sc.count.total)} ${unitOf(sc.count)} (${fmtInterval(sc.count.total, sc.count.low, sc.count.high, sc.count.method)}, ${sc.count.method})`
        : sc.status === "unusable" ? el("span", { class: "warn" }, "unusable: " + (q.causes || []).join("; "))
        : needsTracks(sc) ? el("span", { class: "warn needs-tracks" }, needsTracksText()) : sc.status,
      ...(foundLines(sc) ? [" · ", el("span", { class: "warn found-lines" }, foundLinesText())] : []),
      " · clear ", pct(q.clear_fraction),
      // how much of the site the image covers, as the report's "clear · coverage" says (a
      // count over part of the site is of that part; 2026-12-06, session 35: not shown)
      ...(coverageOf(sc) === null ? [] : [" · ", el("span", { class: `coverage${coverageOf(sc) < PARTIAL ? " warn partial" : ""}` },
        `covers ${pct(coverageOf(sc))} of the site`)]),
      " · ", `${sc.gsd} m`, sc.sensor ? ` · ${sc.sensor}` : "",
    ];
  }

  /** The detections come with the scene's state read with them: a scene processed or
   * counted again since the page listed it is shown as it is now (its info line said
   * "18 railcars" beside "0 detections" of the re-count), in the list too. */
  function refresh(sc, fc) {
    if (fc.status === undefined) return;
    const same = fc.status === sc.status && JSON.stringify(fc.count) === JSON.stringify(sc.count) &&
      JSON.stringify(fc.quality) === JSON.stringify(sc.quality) && fc.reviewed === sc.reviewed &&
      JSON.stringify(fc.detector_count) === JSON.stringify(sc.detector_count);
    if (same) return;
    Object.assign(sc, { status: fc.status, count: fc.count, quality: fc.quality, reviewed: fc.reviewed, detector_count: fc.detector_count });
    sc.fullP = null; // its counts and review are read again
    drawEntry(sc);
    $("scene-info").replaceChildren(...infoLine(sc),
      el("span", { class: "muted recounted" }, " · processed again since the page loaded (the chart is as it was: reload)"),
      el("span", { id: "det-count", class: "muted" }, " · loading detections…"));
  }

  /** Show image `i`, and name it in the address (`#SCENE_ID`) as `how` says: "push" a new
   * history entry (the analyst opened another image: Back returns to the one before;
   * none when the address names it already), "replace" the current entry (the image the
   * page opens with, the one shown after a removal, the slider while dragged), "none"
   * (the address changed first: Back, Forward, a link pasted; see followAddress). Until
   * 2026-12-07 (session 46) every image replaced the entry: Back left the site page. */
  async function select(i, how = "push") {
    if (!scenes.length) return;
    i = Math.max(0, Math.min(scenes.length - 1, i));
    state.index = i;
    const sc = scenes[i];
    const seq = ++state.seq;
    // asked for before this page's own work below
    const t0 = performance.now();
    const detections = early(detectionsOf(sc));
    const footprint = early(footprintOf(sc));
    const occupied = byLength(sc) ? early(api(`/api/scenes/${sc.id}/occupied`)) : null;
    $("slider").value = i;
    // what the slider is at, read out (a screen reader said "120"): the image's day and count
    $("slider").setAttribute("aria-valuetext", `${localDay(sc, "acquired_at")}: ${sceneLabel(sc)}`);
    const inList = list.contains(document.activeElement);
    for (const b of list.querySelectorAll("button.scene")) {
      const on = Number(b.dataset.scene) === sc.id;
      b.classList.toggle("active", on);
      b.tabIndex = on ? 0 : -1; // the list's one Tab stop
    }
    const entry = list.querySelector(`button[data-scene="${sc.id}"]`);
    showIn(list, entry);
    if (inList && entry) entry.focus({ preventScroll: true }); // stepped from the list: it keeps the focus
    if (state.chart) state.chart.select(sc.id);
    markAlerts(sc);
    if (how === "replace" || (how === "push" && location.hash !== `#${sc.id}`)) {
      history[how === "push" ? "pushState" : "replaceState"](null, "", `#${sc.id}`);
    }
    if (state.dets) { map.removeLayer(state.dets); state.dets = null; }
    if (state.occ) { map.removeLayer(state.occ); state.occ = null; }
    delete document.body.dataset.occupied;
    $("scene-info").replaceChildren(...infoLine(sc), el("span", { id: "det-count", class: "muted" }, " · loading detections…"));
    $("review").replaceChildren();
    renderActions(sc);
    try {
      const fc = await detections;
      if (seq !== state.seq) return;
      const t1 = performance.now();
      refresh(sc, fc);
      state.dets = new RWDetections(fc, (p) => ({
        stroke: p.covered ? "#ffffff" : colour(p.class), fill: colour(p.class), fillOpacity: 0.35,
        width: p.covered ? 2.5 : 1.5, dash: p.covered ? [4, 3] : null,
      }), (f, latlng) => {
        const p = f.properties;
        const text = `${p.class}${p.covered ? " (covered)" : ""} · score ${p.score}` +
          (p.inside ? "" : " · outside the site");
        L.popup().setLatLng(latlng).setContent(el("span", { class: "det-popup" }, text)).openOn(map);
      }).addTo(map);
      const covered = fc.features.filter((f) => f.properties.covered).length;
      // an image counted by occupied length (or presence) has no car outlines: its line
      // says so, where it read "0 detections" beside its count
      const outlines = !sc.count || sc.count.method === "objects" || fc.numberMatched > 0;
      // an unusable image is not counted: "0 detections" alone beside it read as a count
      // of 0 (2026-12-06, session 35)
      $("det-count").textContent = sc.status === "unusable" && !fc.numberMatched
        ? " · 0 detections (not counted: missing data, not 0 cars)"
        : outlines
        ? ` · ${fc.numberMatched} detections` + (covered ? `, ${covered} covered` : "")
        : " · no car outlines at this resolution";
      // timings for benchmarks/bench_web.py (browser performance timeline, no globals)
      performance.measure("rw:detections-load", { start: t0, end: t1 });
      performance.measure("rw:detections-draw", { start: t1, end: performance.now() });
    } catch (err) {
      if (seq !== state.seq) return;
      const gone = err.status === 404 && await siteGone();
      $("det-count").textContent = " · detections unavailable: " + (gone ? GONE : err.message);
    }
    if (occupied || byLength(sc)) await showOccupied(sc, seq, occupied);
    // image tiles after the detections: their rendering would otherwise delay them
    let bounds = null;
    try {
      bounds = await footprint;
    } catch (_) {
      return; // the scene is gone (said above, with its detections): no tiles
    }
    if (seq !== state.seq) return;
    showTiles(sc, bounds);
    try {
      renderReview(sc, await sceneOf(sc));
    } catch (_) { /* the scene is gone: said above */ }
  }

  /** A processed image counted by occupied track length (3 m): its cars are car
   * equivalents, read along the track, not outlines. */
  function byLength(sc) { return sc.status === "processed" && Boolean(sc.count) && sc.count.method === "length"; }

  const STRETCHES = 8; // the most stretches named under the map
  const fmtMetres = (m) => Math.round(m).toLocaleString("en");
  /** "track read as occupied: N m ≈ K car equivalents" of a run, or of them all. */
  const occupiedText = (m, k) => `track read as occupied: ${fmtMetres(m)} m ≈ ${fmtCount(k)} car equivalents`;

  /** `values` rounded to `decimals` so that they add up to `total` rounded so (the
   * largest remainders get the units left over; equal ones go by `prefer`, larger
   * first): each stretch rounded on its own did not add up to the sum shown before them
   * ("187 m ≈ 13.3 ... 104 m ≈ 7.5, 82 m ≈ 5.9"; 2026-12-07, session 46). */
  function apportion(values, total, decimals, prefer) {
    const f = 10 ** decimals;
    const scaled = values.map((v) => v * f);
    const out = scaled.map((v) => Math.floor(v + 1e-9));
    const rest = scaled.map((v, i) => Math.round((v - out[i]) * 1e6));
    let left = Math.round(total * f) - out.reduce((a, b) => a + b, 0);
    const order = values.map((v, i) => i).sort((a, b) => rest[b] - rest[a] || prefer[b] - prefer[a] || a - b);
    for (let j = 0; left > 0 && order.length; j = (j + 1) % order.length, left--) out[order[j]] += 1;
    for (let j = order.length - 1; left < 0 && order.length; j = (j + order.length - 1) % order.length) {
      if (out[order[j]] > 0) { out[order[j]] -= 1; left++; }
    }
    return out.map((v) => v / f);
  }

  /** Each stretch's length (whole metres) and car equivalents (one decimal) as shown:
   * they add up to the totals shown (:func:`apportion`), a stretch's two numbers rounded
   * the same way where the rule leaves a choice. */
  function shownRuns(fc) {
    const props = fc.features.map((f) => f.properties);
    const frac = (v, f) => v * f - Math.floor(v * f + 1e-9);
    const m = props.map((p) => p.length_m), k = props.map((p) => p.car_equivalents);
    const metres = apportion(m, fc.occupied_length_m, 0, k.map((v) => frac(v, 10)));
    const cars = apportion(k, fc.car_equivalents, 1, m.map((v) => frac(v, 1)));
    return props.map((p, i) => ({ length_m: p.length_m, m: metres[i], k: cars[i] }));
  }

  /** Draw the stretches of track a length count read as occupied
   * (GET /api/scenes/{id}/occupied) as lines over the image, each with its length as a
   * tooltip, and say under the map what they add up to, or why there are none. */
  async function showOccupied(sc, seq, asked) {
    let fc;
    try {
      fc = await (asked || api(`/api/scenes/${sc.id}/occupied`));
    } catch (err) {
      if (seq !== state.seq) return;
      occInfo().replaceChildren(el("span", { class: "warn" }, " · occupied track unavailable: " + err.message));
      return;
    }
    if (seq !== state.seq) return;
    if (!fc.recorded) {
      if (fc.count && fc.count.method === "length") occInfo().replaceChildren(" · occupied track not recorded: " + fc.reason);
      document.body.dataset.occupied = `${sc.id}:none`;
      return;
    }
    const runs = shownRuns(fc);
    const shown = new Map(fc.features.map((f, i) => [f, runs[i]]));
    state.occ = L.geoJSON(fc, {
      renderer: svg,
      style: { color: OCCUPIED, weight: 4, opacity: 0.95, lineCap: "butt", className: "occ-run" },
      onEachFeature: (f, layer) => {
        // the length the line under the map gives it
        const s = shown.get(f) || { m: f.properties.length_m, k: f.properties.car_equivalents };
        layer.bindTooltip(occupiedText(s.m, s.k), { sticky: true, className: "occ-tip" });
      },
    }).addTo(map);
    occInfo().replaceChildren(" · ", el("span", { class: "occ-swatch", style: `background:${OCCUPIED}` }), " ",
      fc.features.length ? occupiedText(fc.occupied_length_m, fc.car_equivalents) + stretchesText([...shown.values()]) : "no track read as occupied");
    document.body.dataset.occupied = `${sc.id}:${fc.features.length}`;
  }

  /** The stretches' own lengths, longest first, after their sum under the map: each
   * line's tooltip said its length to the mouse only (session 32). At most STRETCHES are
   * named; "and N shorter" counts the rest and says what they add up to, so that the
   * parts add up to the sum (session 46). */
  function stretchesText(runs) {
    const sorted = [...runs].sort((a, b) => b.length_m - a.length_m);
    if (sorted.length === 1) return ", in one stretch";
    const named = sorted.slice(0, STRETCHES).map((s) => `${fmtMetres(s.m)} m ≈ ${fmtCount(s.k)}`);
    const rest = sorted.slice(STRETCHES);
    const sum = (key) => rest.reduce((a, s) => a + s[key], 0);
    const more = rest.length ? `, and ${rest.length} shorter (${fmtMetres(sum("m"))} m ≈ ${fmtCount(sum("k"))})` : "";
    return `, in ${sorted.length} stretches: ${named.join(", ")}${more}`;
  }

  /** The place under the map that says what the occupied track adds up to. */
  function occInfo() {
    return $("occ-info") || $("scene-info").appendChild(el("span", { id: "occ-info", class: "muted occ-info" }));
  }

  /** The analyst's review of the selected scene: what they gave, a form for their own
   * count (total, optional covered loads, a note) and a button that removes it. Only a
   * processed, usable image with a count of cars (not a 10 m presence image) has one; a
   * failed or unprocessed one has the form that declares it unusable (2026-12-06,
   * session 37: it had none, so a file bad at its source, which fails every run, could
   * be declared so only with the CLI), and a declared one its reason and the button
   * that brings it back. */
  function renderReview(sc, full) {
    const box = $("review");
    if (scenes[state.index] !== sc) return;
    const declared = full.review && full.review.unusable != null ? full.review.unusable : null;
    if (declared !== null) {
      // declared unusable by an analyst (session 36): why, and the button that takes it back
      const msg = el("span", { class: "review-msg" });
      const said = el("p", { class: "review-state review-unusable" }, "Declared unusable ",
        el("span", { class: "review-day tip", tabindex: "0", title: siteDayTitle("reviewed", full.review.reviewed_at, site.local_zone) },
          siteDay(full.review.reviewed_at, site.local_zone)),
        `: ${declared} (a gap in the series; processing skips it)`);
      if (auth.state && auth.state.writes === "disabled") {
        box.replaceChildren(said);
        return;
      }
      const remove = el("button", { type: "button", id: "review-remove", onclick: () =>
        change(sc, remove, msg, () => api(`/api/scenes/${sc.id}/review`, { method: "DELETE" })) }, "Remove review (process it again)");
      box.replaceChildren(said, remove, msg);
      return;
    }
    if (full.status === "failed" || full.status === "ingested") {
      renderNotCounted(sc, full);
      return;
    }
    if (sc.status !== "processed" || !sc.quality.usable || !sc.count || isPresence(sc.count)) {
      box.replaceChildren();
      return;
    }
    const byLength = sc.count.method !== "objects"; // car equivalents: a total only
    // the cars as a file to correct in QGIS: the analyst's outlines where the review has them
    // its title shown while it has the keyboard's focus (.tip; session 32). An image
    // counted by occupied track length has no cars to outline (the API refuses both the
    // download and outlines sent back there): it says so instead (2026-12-06, session 38:
    // it offered both, the download saved a 422 and the upload was refused)
    const download = byLength
      ? el("span", { id: "review-no-outlines", class: "muted" },
        `No car outlines at ${sc.gsd} m: cars are not separable there, so the count is read from occupied track length; give your total (car equivalents) as My count.`)
      : el("a", { id: "review-download", class: "tip", href: `/api/scenes/${sc.id}/cars`, download: `scene_${sc.id}_cars.geojson`,
        title: "every car over the image in the image's CRS: correct them in QGIS (move, add, delete; class, covered) and send the file back below" },
      "Download cars (GeoJSON)");
    if (auth.state && auth.state.writes === "disabled") {
      box.replaceChildren(el("span", { class: "muted review-off" },
        "Your own count of this image needs the API token (this server is read-only). "), download);
      return;
    }
    const review = full.review;
    const msg = el("span", { class: "review-msg" });
    const total = el("input", { type: "number", id: "review-total", min: 0, step: byLength ? "any" : 1, required: true,
      "aria-label": "your count of all railcars", value: review ? review.counts.all : "" });
    const covered = byLength ? null : el("input", { type: "number", id: "review-covered", min: 0, step: 1,
      "aria-label": "covered loads", placeholder: "covered", value: review && review.counts.covered !== undefined ? review.counts.covered : "" });
    const note = el("input", { type: "text", id: "review-note", class: "review-note", maxlength: 2000,
      placeholder: "note (how you counted)", "aria-label": "note on your count (how you counted)", value: review ? review.note : "" });
    const save = el("button", { type: "submit", id: "review-save" }, review ? "Change my count" : "Save my count");
    const remove = review ? el("button", { type: "button", id: "review-remove", onclick: () =>
      change(sc, remove, msg, () => api(`/api/scenes/${sc.id}/review`, { method: "DELETE" })) }, "Remove review") : null;
    const form = el("form", { id: "review-form", class: "review-form", onsubmit: (e) => {
      e.preventDefault();
      const counts = { all: Number(total.value) };
      if (covered && covered.value !== "") counts.covered = Number(covered.value);
      change(sc, save, msg, () => api(`/api/scenes/${sc.id}/review`, { method: "PUT", body: { counts, note: note.value } }));
    } }, el("label", {}, "My count ", total), covered ? el("label", {}, " covered ", covered) : null, note, save, remove, msg);
    const given = review
      // the day at the site, as every day on the page (session 36: its UTC day)
      ? el("p", { class: "review-state" }, "Reviewed ",
        el("span", { class: "review-day tip", tabindex: "0", title: siteDayTitle("reviewed", review.reviewed_at, site.local_zone) },
          siteDay(review.reviewed_at, site.local_zone)),
        ": " +
        Object.entries(review.counts).map(([c, n]) => `${c} ${fmtCount(n)}`).join(", ") +
        (review.cars !== null ? ` (from ${review.cars} outlines)` : "") +
        (review.applied ? "" : " (not applied: the image changed or is not usable now)") +
        (review.note ? `\n${review.note}` : ""))
      : el("p", { class: "muted review-state-none" }, "The count is the detector's: give yours if you counted the image.");
    const file = el("input", { type: "file", id: "review-file", accept: ".geojson,.json,application/geo+json,application/json",
      "aria-label": "corrected cars (GeoJSON)" });
    const fileMsg = el("span", { class: "review-msg review-file-msg" });
    const upload = el("button", { type: "button", id: "review-upload", onclick: async () => {
      const chosen = file.files && file.files[0];
      fileMsg.textContent = "";
      if (!chosen) { fileMsg.textContent = "choose the corrected GeoJSON file first"; return; }
      let cars;
      try {
        cars = JSON.parse(await chosen.text());
      } catch (err) {
        fileMsg.textContent = `${chosen.name} is not a JSON file (${err.message}): send the GeoJSON the download gave, corrected`;
        return;
      }
      change(sc, upload, fileMsg, () => api(`/api/scenes/${sc.id}/review`, { method: "PUT", body: { cars, note: note.value } }));
    } }, "Send as my review");
    const outlines = byLength ? el("div", { class: "review-cars" }, download)
      : el("div", { class: "review-cars" }, download, " · corrected: ", file, upload, fileMsg);
    box.replaceChildren(given, form, outlines, unusableForm(sc, review));
  }

  /** The review box of a failed or unprocessed image: why it has no count, and the form
   * that declares it unusable (PUT /api/scenes/{id}/review with ``unusable``): a file bad
   * at its source fails every run, and declared so it is a gap that processing skips. An
   * image not counted for want of the site's track centrelines has no such form: its file
   * is not at fault, and declared unusable it would be skipped once the site has them (the
   * API refuses it; 2026-12-06, session 41: the form was offered under "Its file is not at
   * fault"). */
  function renderNotCounted(sc, full) {
    const failed = full.status === "failed";
    const said = needsTracks(full)
      ? el("p", { class: "review-state review-not-counted review-needs-tracks" },
        `Not counted: this ${full.gsd} m image cannot be read without the site's track centrelines, and the site has none` +
        (full.error ? ` (${full.error})` : "") + `. Its file is not at fault: give the site its track centrelines (${tracksCommand()}) ` +
        "and process it again.")
      : el("p", { class: "review-state review-not-counted" }, failed
      ? "Processing failed on this image" + (full.error ? ` (${full.error})` : "") + ", so it has no count. " +
        "If the file is bad at its source (every run fails on it), declare it unusable: a gap in the series, which processing then skips."
      : "This image is not processed yet, so it has no count. If it shows nothing to count (not the site, a night image), " +
        "declare it unusable: a gap in the series, which processing then skips.");
    if (needsTracks(full)) {
      $("review").replaceChildren(said);
      return;
    }
    if (auth.state && auth.state.writes === "disabled") {
      $("review").replaceChildren(said, el("span", { class: "muted review-off" },
        "Declaring it unusable needs the API token (this server is read-only)."));
      return;
    }
    $("review").replaceChildren(said, unusableForm(sc, full.review));
  }

  /** The form that declares an image unusable, saying why; ``review``: the analyst's
   * count it would replace (asked first), or null. */
  function unusableForm(sc, review) {
    // or the image shows nothing to count: clouds the quality check missed, not the site, a
    // night image (session 36): a gap in the series, skipped by processing until removed
    const why = el("input", { type: "text", id: "review-unusable", class: "review-note", maxlength: 2000,
      placeholder: "why the image is unusable", "aria-label": "why the image is unusable" });
    const whyMsg = el("span", { class: "review-msg review-unusable-msg" });
    const declare = el("button", { type: "button", id: "review-declare", onclick: () => {
      whyMsg.textContent = "";
      if (!why.value.trim()) { whyMsg.textContent = "say why the image is unusable first"; return; }
      // it replaces (deletes) the analyst's count, its note and outlines: asked first, and
      // said after (session 36: it went without a word, as the CLI's did before 5441596)
      if (review && !window.confirm(`Declaring the image unusable replaces your count (${reviewWords(review)}). ` +
        "Give it again after removing the declaration if you change your mind. Declare it unusable?")) {
        whyMsg.textContent = "not declared: your count is kept";
        return;
      }
      change(sc, declare, whyMsg, () => api(`/api/scenes/${sc.id}/review`, { method: "PUT", body: { unusable: why.value } }));
    } }, "Declare unusable");
    return el("div", { class: "review-unusable-form" }, why, declare, whyMsg);
  }

  /** A count review in words, to give again: its counts, outlines and note. */
  function reviewWords(rv) {
    return Object.entries(rv.counts).map(([c, n]) => `${c} ${fmtCount(n)}`).join(", ") +
      (rv.cars !== null && rv.cars !== undefined ? `, from ${rv.cars} outlines` : "") +
      (rv.note ? `; note "${rv.note}"` : "");
  }

  /** Send a change of a scene's review, then show the scene, its entry and the chart as
   * they are now (the series reads the analyst's count); a count the new review replaced
   * (deleted) is said under it, to be given again. */
  async function change(sc, button, msg, send) {
    button.disabled = true;
    msg.textContent = "";
    let answer;
    try {
      answer = await send();
    } catch (err) {
      msg.textContent = err.status === 401 ? "sign in with the API token first (top right)" : err.message;
      button.disabled = false;
      return;
    }
    sc.fullP = null;
    let full;
    try {
      full = await sceneOf(sc);
    } catch (err) {
      msg.textContent = err.message;
      button.disabled = false;
      return;
    }
    Object.assign(sc, { status: full.status, count: full.count, quality: full.quality,
      reviewed: full.reviewed, detector_count: full.detector_count });
    drawEntry(sc);
    if (scenes[state.index] === sc) {
      const dets = $("det-count"), occ = $("occ-info");
      $("scene-info").replaceChildren(...infoLine(sc), dets || "", occ || "");
      renderReview(sc, full);
      const replaced = answer && answer.replaced;
      if (replaced && replaced.unusable == null && full.review && full.review.unusable != null) {
        $("review").append(el("p", { id: "review-replaced", class: "review-state muted" },
          `It replaced your count (${reviewWords(replaced)}): give it again after removing the declaration.`));
      }
    }
    askBaseline();
    await Promise.all([loadChart(state.cls), loadToReview()]);
    // for tests and scripts: the scene and the analyst's total now ("none" once removed,
    // "unusable" when declared so)
    const now = !full.review ? "none" : full.review.unusable != null ? "unusable" : fmtCount(full.review.counts.all);
    document.body.dataset.reviewChanged = `${sc.id}:${now}`;
  }

  /** Under the image list: the button that removes the selected image (DELETE
   * /api/scenes/{id}, as `railwatch scene remove ID`; 2026-12-06, session 42: the
   * dashboard had none), and what the last removal did. Not on a read-only server. */
  function renderActions(sc) {
    const box = $("scene-actions");
    if (!sc || (auth.state && auth.state.writes === "disabled")) { box.replaceChildren(); return; }
    const msg = el("span", { id: "scene-remove-msg", class: "review-msg scene-remove-msg", role: "status" });
    const button = el("button", { type: "button", id: "scene-remove", class: "scene-remove tip",
      title: "Delete this image from railwatch with its detections, counts and review (asks first; the file is kept)",
      onclick: () => removeScene(sc, button, msg) }, `Remove image ${localDay(sc, "acquired_at")}…`);
    box.replaceChildren(button, " ", msg);
  }

  /** Remove an image ingested by mistake, once the analyst confirms: its stored results
   * go with it, and the list, chart, alerts and images to check are shown without it.
   * A refusal (a 409 while the site is processed, a 404 for an image removed meanwhile)
   * is said beside the button in the API's words. */
  async function removeScene(sc, button, msg) {
    const day = localDay(sc, "acquired_at");
    const asked = `Remove the image of ${day} (scene ${sc.id}${sc.file ? `, ${sc.file}` : ""}) from railwatch?\n\n` +
      "Its detections, counts and review are deleted with it, and so are the alerts citing it " +
      "(acknowledged ones are kept, inactive, with their notes). This cannot be undone. " +
      "The image file is kept: ingesting it again makes a new image, to be processed again.";
    if (!window.confirm(asked)) return;
    button.disabled = true;
    msg.textContent = "removing…";
    let gone;
    try {
      gone = await api(`/api/scenes/${sc.id}`, { method: "DELETE" });
    } catch (err) {
      msg.textContent = err.status === 401 ? "sign in with the API token first (top right)" : `Not removed: ${err.message}`;
      button.disabled = false;
      document.body.dataset.sceneRemoveFailed = String(sc.id); // for tests and scripts
      return;
    }
    const i = scenes.indexOf(sc);
    if (i >= 0) scenes.splice(i, 1);
    const entry = list.querySelector(`button[data-scene="${sc.id}"]`);
    if (entry) entry.closest("li").remove();
    $("slider").max = Math.max(0, scenes.length - 1);
    const alerts = gone.alerts_removed.length + gone.alerts_retired.length;
    const said = `Removed the image of ${day} (scene ${gone.deleted}): ` +
      `${gone.detections} detection${gone.detections === 1 ? "" : "s"}, ${gone.counts} count${gone.counts === 1 ? "" : "s"}` +
      (gone.reviews ? `, ${gone.reviews} review${gone.reviews === 1 ? "" : "s"}` : "") +
      (alerts ? `, ${alerts} alert${alerts === 1 ? "" : "s"} citing it` +
        (gone.alerts_retired.length ? ` (${gone.alerts_retired.length} acknowledged, kept inactive)` : "") : "") +
      ` deleted. Analyse the site again (POST /api/sites/${site.name}/analyze, or railwatch analyze ${site.name}) to judge its alerts without it.`;
    let shown = null;
    if (scenes.length) {
      shown = select(Math.min(Math.max(i, 0), scenes.length - 1), "replace");
    } else {
      state.seq++; // what was being loaded for the removed image is dropped
      state.index = -1;
      for (const layer of [state.tiles, state.dets, state.occ]) if (layer) map.removeLayer(layer);
      Object.assign(state, { tiles: null, dets: null, occ: null });
      $("review").replaceChildren();
      history.replaceState(null, "", location.pathname);
      noImages();
      $("scene-actions").replaceChildren();
    }
    $("scene-actions").append(el("p", { id: "scene-removed", class: "review-state scene-removed", role: "status" }, said));
    try {
      state.alerts = await all(`/api/sites/${enc}/alerts`);
      renderAlerts();
    } catch (err) { /* the chart and the panel below say a failure to read the site */ }
    askBaseline();
    await Promise.all([loadChart(state.cls), loadToReview(), shown]);
    document.body.dataset.sceneRemoved = String(gone.deleted); // for tests and scripts
  }

  /** No image to select (none ingested yet, or the last one removed): said where the
   * image and the list stood, with no stepper. */
  function noImages() {
    $("scene-info").replaceChildren(el("span", { class: "muted no-images" },
      `No images of this site yet: add some with "railwatch ingest ${site.name} FILES…" ` +
      `(or ingest-stac), then process them ("railwatch process ${site.name}" or a job).`));
    // and no stepper of no image: a plain line where it stands (2026-12-06, session 38:
    // an empty slider and its ◀ ▶ arrows, which did nothing)
    document.querySelector(".stepper").hidden = true;
    list.replaceWith(el("p", { id: "scenes", class: "muted no-images-side" },
      `No images yet: ingest some ("railwatch ingest ${site.name} FILES…" or ingest-stac), then process them.`));
  }

  /** Draw the chart of ``cls``; a failure is said in its place (it was an unhandled
   * rejection: the old chart stayed, with no word). */
  async function loadChart(cls, asked = null) {
    // the series the chart shows, as a file (2026-12-07, session 50: the page offered no
    // download of it; the CSV is the API's, every image of the class in one file)
    $("counts-csv").setAttribute("href", `/api/sites/${enc}/counts?class=${encodeURIComponent(cls)}&format=csv`);
    // this chart's turn: a record that comes after another chart was asked for (or the
    // counts failed, said in its place) is not drawn
    const seq = ++state.chartSeq;
    let counts;
    try {
      counts = await (asked || all(`/api/sites/${enc}/counts?class=${encodeURIComponent(cls)}`, 10000));
    } catch (err) {
      if (seq !== state.chartSeq) return [];  // another chart was asked for meanwhile
      const gone = err.status === 404 && await siteGone();
      $("chart").replaceChildren(el("p", { class: "error chart-error" }, "Cannot load the counts: " + (gone ? GONE : err.message)));
      state.chart = null;
      return [];
    }
    // a slower answer for a class asked before the one shown now is not drawn over it
    // (review, 2026-12-07, session 50: boxcar's counts arriving after tank's drew
    // boxcar's series under "tank")
    if (seq !== state.chartSeq) return counts;
    // one axis holds cars seen one by one and 3 m car equivalents: the title says so
    // when the series has both (session 33: it said "Railcars per image" alone); a type's
    // series has no count at a 3 m image (its method cannot tell the type: a "·" under
    // the axis), so it has no car equivalents to say (2026-12-06, session 38: the title
    // said so of boxcar and tank too)
    const byLength = counts.some((p) => p.method === "length" && p.count !== null && !p.reviewed);
    $("chart-title").textContent = byLength
      ? "Railcars per image (3 m images: car equivalents from track length)"
      : "Railcars per image";
    // drawn at once, the record added when it comes (review, 2026-12-07, session 50: the
    // chart waited for it, 2-3 s at 10,000 images)
    const draw = (baseline) => {
      state.chart = RWChart.draw($("chart"), counts, chartOptions(cls, baseline));
      if (state.index >= 0) state.chart.select(scenes[state.index].id);
    };
    draw(null);
    document.body.dataset.record = cls === "all" ? "pending" : "none";
    if (cls === "all") {
      // (not awaited: the callers go on with the chart drawn)
      state.recordDrawn = baselineNow().then((baseline) => {
        if (seq !== state.chartSeq) return;
        if (baseline) {
          const inChart = $("chart").contains(document.activeElement);
          draw(baseline);
          // the keyboard stays in the chart, on the image shown
          if (inChart) { const stop = $("chart").querySelector("[tabindex='0']"); if (stop) stop.focus({ preventScroll: true }); }
        }
        document.body.dataset.record = baseline ? "drawn" : "none"; // for tests and scripts
      });
    }
    return counts;
  }

  /** The chart's options for the series of ``cls``, with the site total's record
   * (``baseline``: GET /api/sites/{site}/baseline) or none. */
  function chartOptions(cls, baseline) {
    return {
      events: state.events, alerts: state.alerts.filter((a) => a.cls === cls), zone: site.local_zone,
      record: cls === "all" && baseline ? { items: baseline.items, years: baseline.record_years, method: baseline.method } : null,
      // a silence's mark (no image to open): outline its alert in the panel, in view, and
      // move the focus to it, so that a screen reader reads it (session 32: the outline
      // alone told a keyboard user nothing)
      onAlert: (a) => {
        const n = $("alerts").querySelector(`.alert[data-alert="${a.id}"]`);
        if (!n) return;
        n.classList.add("current");
        n.setAttribute("tabindex", "-1");
        n.scrollIntoView({ block: "nearest" });
        n.focus({ preventScroll: true });
      },
      onPick: (id) => {
        const i = scenes.findIndex((sc) => sc.id === id);
        // a point of an image processed after the page loaded (select(-1) opened the first image)
        if (i < 0) {
          $("scene-info").replaceChildren(el("span", { class: "warn new-image" },
            "This image came after the page was opened: reload the page to see it."));
          return;
        }
        select(i);
      },
    };
  }

  /** How wide an interval is against its count, in words, as `railwatch scene to-review`
   * says it (cli/scene.py spread_words; "100% of the count wide" until session 47). */
  function spreadWords(spread) {
    if (Math.round(spread * 100) === 100 || (spread >= 1 && spread < 1.05)) return "as wide as the count itself";
    if (spread < 1) return `${Math.round(spread * 100)}% as wide as the count`;
    return `${spread.toFixed(1)} times as wide as the count`;
  }

  /** Why an image is to be checked: the alerts that rest on its count, else how wide the
   * detector's interval is, and a low sun (as `railwatch scene to-review` says it). */
  function checkWhy(c) {
    const why = c.alerts.length
      ? "alerts: " + c.alerts.map((a) => `${a.severity} ${a.kind}` + (a.class === "all" ? "" : ` (${a.class})`)).join(", ")
      : `interval ${fmtInterval(c.count.total, c.count.low, c.count.high, c.count.method)}, ${spreadWords(c.spread)}`;
    return c.low_sun ? `${why}; sun ${Math.round(c.sun_elevation)}° high: long shadows may be counted as cars` : why;
  }

  /** The "Images to check" panel: the site's images to review first; a click opens one as
   * the image list does. */
  async function loadToReview(asked = null) {
    const box = $("to-review");
    let page;
    try {
      page = await (asked || api(`/api/sites/${enc}/to-review?limit=${TO_REVIEW}`));
    } catch (err) {
      const gone = err.status === 404 && await siteGone();
      box.replaceChildren(el("p", { class: "error to-review-error" }, "Cannot load the images to check: " + (gone ? GONE : err.message)));
      return;
    }
    if (!page.items.length) {
      box.replaceChildren(el("p", { class: "muted to-review-none" },
        "Nothing to check: no usable counted image, or every one is reviewed."));
      return;
    }
    const more = page.total - page.items.length;
    box.replaceChildren(el("ol", { class: "to-review-list" }, ...page.items.map((c) => {
      const approx = c.count.method === "objects" ? "" : "≈";
      return el("li", {}, el("button", {
        type: "button", class: `to-review-item${c.alerts.length ? " alerted" : ""}`, dataset: { scene: c.scene_id },
        title: `the detector's count: ${fmtCount(c.count.total)} (${fmtInterval(c.count.total, c.count.low, c.count.high, c.count.method)}, ${c.count.method}); open this image`,
        onclick: () => {
          const i = scenes.findIndex((sc) => sc.id === c.scene_id);
          if (i < 0) { // processed after the page was opened
            $("scene-info").replaceChildren(el("span", { class: "warn new-image" },
              "This image came after the page was opened: reload the page to see it."));
            return;
          }
          select(i);
        },
      }, el("span", { class: "d" }, localDay(c, "acquired_at")), el("span", { class: "c" }, `${approx}${fmtCount(c.count.total)}`),
      el("span", { class: "why" }, checkWhy(c))));
    })), ...(more > 0 ? [el("p", { class: "muted to-review-more" }, `and ${more} more`)] : []));
  }

  /** "changed since acknowledged: was 40 (medium)" for an alert that re-analysis has
   * changed since it was acknowledged (metrics.changed_since_ack: what was acknowledged),
   * as `railwatch alerts` words it; null for one that has not changed. */
  function changedSince(a) {
    const was = a.metrics && a.metrics.changed_since_ack;
    if (!was || typeof was !== "object") return null;
    // as storage.repo.changed_since_words words it (the CLI and the report alike)
    const n = was.value;
    const shown = typeof n !== "number" ? "no count" : Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1);
    let text = `changed since acknowledged: was ${shown} (${was.severity})`;
    if ((was.scene_id ?? null) !== (a.scene_id ?? null)) text += was.scene_id === null || was.scene_id === undefined ? " on no image" : ` on another image (scene ${was.scene_id})`;
    else if (was.value === a.value && was.severity === a.severity) text += `: ${was.explanation}`;
    return text;
  }

  /** An alert's linked event as the alerts word it ("same day as", "1 day before",
   * "18 days before"); where its metrics carry `local_day` (an image whose day at the
   * site is not its UTC day: events are linked by the local day since session 30), that
   * the days are counted from that day at the site, as the explanation says. */
  function eventLink(a) {
    const n = a.event_days;
    const local = a.metrics && typeof a.metrics.local_day === "string" ? a.metrics.local_day : null;
    const from = local ? `${local}, the alert's day at the site` : "the alert";
    const gap = n === 0 ? `same day as ${from}` : `${n} day${n === 1 ? "" : "s"} before ${from}`;
    return `event: ${a.event_label} (${gap})`;
  }

  const SEVERITIES = ["high", "medium", "low", "info"];
  /** An open alert, one that needs an analyst's eyes, as the site list's badges count
   * them (storage.repo.open_alert_sql): not acknowledged, or acknowledged and changed
   * since. */
  const isOpen = (a) => !a.acknowledged || Boolean(a.changed_since_ack || changedSince(a));
  const bySeverity = (list) => {
    const n = {};
    for (const a of list) n[a.severity] = (n[a.severity] || 0) + 1;
    return n;
  };
  const severityWords = (n) => SEVERITIES.filter((sev) => n[sev]).map((sev) => `${n[sev]} ${sev}`).join(", ");
  // as the report names the series (railwatch.detect.base.series_label): "railcar" alone
  // read as every car, beside the site total (session 40)
  const className = (c) => (c === "all" ? "all (site total)" : c === "railcar" ? "railcar (untyped railcars)" : c);

  /** Above the alerts: the site's open alerts of every class, the number the site list
   * shows for the site (its badges), then the open alerts of each class, a button that
   * shows that class. The panel lists the chart's class only (the site total by
   * default), acknowledged alerts too: before 2026-12-05 (session 34) the site list's
   * "26 high" led to a panel of 8 high alerts (the total's) and a line "57 alerts on
   * single classes", nothing that gave the list's number back. */
  function renderOpen() {
    const box = $("alerts-open");
    if (!state.alerts.length) { box.replaceChildren(); return; }
    const open = state.alerts.filter(isOpen);
    const total = bySeverity(open);
    // (el() flattens one level of arrays: the badges are spread here)
    const head = open.length
      ? el("p", { class: "open-total" }, "Open: ", ...SEVERITIES.filter((sev) => total[sev]).flatMap((sev) =>
        [el("span", { class: `badge badge-${sev}`, dataset: { severity: sev } }, `${total[sev]} ${sev}`), " "]),
      el("span", { class: "muted" }, "(all classes, as on the site list)"))
      : el("p", { class: "open-total muted" }, "No open alert: every alert is acknowledged.");
    // the classes with alerts, the site total first, then by their number of open alerts
    const classes = [...new Set(state.alerts.map((a) => a.cls))].sort((x, y) =>
      (y === "all") - (x === "all") || open.filter((a) => a.cls === y).length - open.filter((a) => a.cls === x).length || x.localeCompare(y));
    const choosable = new Set([...$("cls").options].map((o) => o.value));
    const buttons = classes.map((c) => {
      const mine = open.filter((a) => a.cls === c);
      const words = `${className(c)}: ${mine.length} open` + (mine.length ? ` (${severityWords(bySeverity(mine))})` : "");
      return el("button", { type: "button", class: `open-cls${c === state.cls ? " on" : ""}`, dataset: { cls: c, open: mine.length },
        "aria-pressed": c === state.cls ? "true" : "false", "aria-label": `${words}: show them`,
        disabled: !choosable.has(c) && c !== state.cls,
        onclick: () => {
          if (c === state.cls) return;
          $("cls").value = c;
          $("cls").dispatchEvent(new Event("change"));
        } }, `${c} ${mine.length}`);
    });
    const shownOpen = open.filter((a) => a.cls === state.cls);
    const listed = state.alerts.filter((a) => a.cls === state.cls).length;
    const here = el("p", { class: "open-shown muted" }, `Listed below, the open ones first, most severe first, then the acknowledged: ${className(state.cls)}, ${listed} alert${listed === 1 ? "" : "s"}` +
      (listed ? `; open: ${shownOpen.length ? severityWords(bySeverity(shownOpen)) : "none"}` : ""));
    box.replaceChildren(head, el("p", { class: "open-classes" }, el("span", { class: "muted" }, "Open by class: "), ...buttons.flatMap((b) => [b, " "])), here);
  }

  function renderAlerts() {
    const box = $("alerts");
    renderOpen();
    if (!state.alerts.length) { box.replaceChildren(el("p", { class: "muted" }, "No alerts.")); return; }
    // the alerts of the class shown in the chart (the site total by default): the open
    // ones (not acknowledged, or changed since) first, the most severe first, then the
    // acknowledged ones, as severe; newest first within each (the API's order; a stable
    // sort). 2026-12-07, session 50: newest first alone, the demo's panel opened on an
    // info record of 2024-06-17 and its 2023 high records were nine info alerts further
    // down; by severity alone (its review), an acknowledged high stood above an open
    // medium, what is left to check under what was checked
    const rank = (a) => { const i = SEVERITIES.indexOf(a.severity); return i < 0 ? SEVERITIES.length : i; };
    const shown = state.alerts.filter((a) => a.cls === state.cls)
      .sort((x, y) => Number(!isOpen(x)) - Number(!isOpen(y)) || rank(x) - rank(y));
    const others = state.alerts.length - shown.length;
    // (with a class chosen, the site total's alerts are among the others: "on single
    // classes" was wrong there)
    const hidden = others
      ? el("p", { class: "muted" }, `${others} alert${others === 1 ? "" : "s"} of other classes: choose the class under the chart or above.`)
      : null;
    if (!shown.length) { box.replaceChildren(el("p", { class: "muted" }, `No alerts for ${state.cls}.`), hidden); return; }
    // (a null child of replaceChildren is the text "null": it stood under the alerts)
    box.replaceChildren(...shown.map((a) => {
      // named for a screen reader (a placeholder is no label: it goes once typed in)
      const note = el("input", { type: "text", class: "ack-note", placeholder: "note (what you checked)", maxlength: 2000,
        "aria-label": `note on acknowledging the ${a.severity} ${a.kind} alert of ${localDay(a, "when")} (what you checked)` });
      const msg = el("span", { class: "ack-msg" });
      const ack = el("button", { type: "button", class: "ack", onclick: async () => {
        ack.disabled = true;
        msg.textContent = "";
        try {
          // the key: a re-analysis may have given this id to another alert (409); the
          // version: a re-analysis may have changed this one since it was shown (409)
          const updated = await api(`/api/alerts/${a.id}/acknowledge`, { method: "POST", body: { note: note.value, key: a.key, version: a.version } });
          delete a.conflict;
          delete a.draft;
          Object.assign(a, updated);
          renderAlerts();
        } catch (err) {
          if (err.status === 409 && err.data && err.data.alert && err.data.alert.key === a.key) {
            // nothing was acknowledged: show the alert as it is now, with why, and the
            // note kept for a second try
            Object.assign(a, err.data.alert);
            a.conflict = err.message;
            a.draft = note.value;
            renderAlerts();
            return;
          }
          msg.textContent = err.status === 401 ? "sign in with the API token first (top right)" : err.message;
          ack.disabled = false;
        }
      } }, "Acknowledge");
      if (a.draft) note.value = a.draft;
      // an acknowledged alert that says something else now: acknowledging it again (with
      // or without a note, its notes kept) marks it as seen
      const changed = changedSince(a);
      if (changed && a.acknowledged) ack.textContent = "Acknowledge again";
      const idx = scenes.findIndex((sc) => sc.id === a.scene_id);
      const current = idx >= 0 && idx === state.index;
      return el("div", { class: `alert sev-${a.severity}${a.acknowledged ? " acked" : ""}${current ? " current" : ""}`,
        dataset: { alert: a.id, date: localDay(a, "when"), scene: a.scene_id } },
        el("div", { class: "alert-head" },
          el("span", { class: `badge badge-${a.severity}` }, a.severity), " ",
          el("strong", {}, a.kind), " · ", a.cls, " · ",
          // the alert's day at the site, the day its key and text name (session 31)
          idx >= 0
            ? el("a", { class: "alert-day tip", href: `#${a.scene_id}`, title: dayTitle(a, "when", site.local_zone), onclick: (e) => { e.preventDefault(); select(idx); } }, localDay(a, "when"))
            : el("span", { class: "alert-day tip", tabindex: "0", title: dayTitle(a, "when", site.local_zone) }, localDay(a, "when"))),
        el("p", { class: "expl" }, a.explanation),
        a.event_label ? el("p", { class: "muted event-link" }, eventLink(a)) : null,
        a.acknowledged
          // the day at the site, as the alert's own day beside it (session 36: its UTC
          // day, at a UTC+12 site the day before for an acknowledgement after 12:00 UTC)
          ? el("p", { class: "acked-note" }, "Acknowledged ",
            el("span", { class: "ack-day tip", tabindex: "0", title: siteDayTitle("acknowledged", a.ack_at, site.local_zone) },
              siteDay(a.ack_at, site.local_zone)),
            a.ack_note ? `: ${a.ack_note}` : "")
          : null,
        changed ? el("p", { class: "warn changed-since tip", tabindex: "0", title: `changed on ${siteDay(a.metrics.changed_since_ack.changed_at, site.local_zone)} (at the site); acknowledge it again once checked` }, changed) : null,
        a.conflict ? el("p", { class: "warn ack-conflict" }, a.conflict) : null,
        !a.acknowledged || changed ? el("div", { class: "ack-row" }, note, ack, msg) : null);
    }), ...(hidden ? [hidden] : []));
  }

  /** The site's events (the chart's dashed lines), and a form that adds one (POST
   * /api/sites/{site}/events): it is drawn on the chart at once, and the alerts name it
   * once the site is analysed again, which the button under it asks for (POST
   * /api/sites/{site}/analyze, as `railwatch analyze SITE`). 2026-12-07, session 50: an
   * event (the summit) could be added with the API or the CLI only, and the page could
   * not have the site analysed. Not on a read-only server. */
  function renderEvents() {
    const box = $("events");
    const listed = state.events.length
      ? el("ul", { class: "event-list" }, ...state.events.map((e) =>
        el("li", { dataset: { event: e.id } }, el("span", { class: "d" }, e.date), " ", e.label)))
      : el("p", { class: "muted events-none" }, "No events: add the dated events the counts may answer to (a summit, a sanction, a flood).");
    if (auth.state && auth.state.writes === "disabled") { box.replaceChildren(listed); return; }
    const date = el("input", { type: "date", id: "event-date", required: true, "aria-label": "event date (a day at the site)" });
    const label = el("input", { type: "text", id: "event-label", required: true, maxlength: 200,
      placeholder: "event (e.g. summit)", "aria-label": "event label" });
    const add = el("button", { type: "submit", id: "event-add" }, "Add event");
    const msg = el("p", { id: "event-msg", class: "review-msg event-msg", role: "status" });
    const form = el("form", { id: "event-form", class: "event-form", onsubmit: async (e) => {
      e.preventDefault();
      add.disabled = true;
      msg.replaceChildren();
      let ev;
      try {
        ev = await api(`/api/sites/${enc}/events`, { method: "POST", body: { date: date.value, label: label.value.trim() } });
      } catch (err) {
        msg.textContent = err.status === 401 ? "sign in with the API token first (top right)" : err.message;
        add.disabled = false;
        return;
      }
      state.events = [...state.events, ev].sort((a, b) => a.date.localeCompare(b.date) || a.id - b.id);
      renderEvents();
      await loadChart(state.cls);
      $("event-msg").replaceChildren(`Added ${ev.date} ${ev.label}: drawn on the chart. The alerts name an event once the site is analysed again. `,
        analyzeButton());
    } }, date, label, add);
    box.replaceChildren(listed, form, msg);
  }

  /** The button that analyses the site again (its alerts judged as of today), then shows
   * its alerts, chart and images to check as they are now, and what changed. */
  function analyzeButton() {
    const button = el("button", { type: "button", id: "event-analyze" }, "Analyse the site now");
    button.addEventListener("click", async () => {
      const msg = $("event-msg");
      button.disabled = true;
      let r;
      try {
        r = await api(`/api/sites/${enc}/analyze`, { method: "POST" });
      } catch (err) {
        msg.append(el("span", { class: "error" }, " " + (err.status === 401 ? "sign in with the API token first (top right)" : err.message)));
        button.disabled = false;
        return;
      }
      try {
        state.alerts = await all(`/api/sites/${enc}/alerts`);
        renderAlerts();
      } catch (_) { /* the panels below say a failure to read the site */ }
      askBaseline();
      await Promise.all([loadChart(state.cls), loadToReview()]);
      msg.replaceChildren(`Analysed as of today: ${r.alerts} alert${r.alerts === 1 ? "" : "s"} ` +
        `(${r.created} new, ${r.updated} changed, ${r.removed} removed, ${r.unchanged} unchanged)` +
        (r.reopened ? `, ${r.reopened} acknowledged raised again` : "") + ".");
    });
    return button;
  }

  /** How many of the site's reports the page lists (the newest). */
  const REPORTS = 5;

  /** The site's reports made on this server (GET /api/reports?site=), newest first, each
   * a download of its HTML (and PDF), and a button that makes one of the whole history
   * now (POST /api/sites/{site}/reports: tens of seconds for a few hundred images), with
   * the warnings the API gives (stored alerts the stored results would change: analyse
   * first). 2026-12-07, session 50: the page offered no report, to make or to read. Not
   * the button on a read-only server. */
  async function loadReports(said = null) {
    const box = $("reports");
    let page;
    try {
      page = await api(`/api/reports?site=${enc}&limit=${REPORTS}`);
    } catch (err) {
      box.replaceChildren(el("p", { class: "error reports-error" }, "Cannot list the reports: " + err.message));
      return;
    }
    const period = (r) => (r.since || r.until ? `${r.since || "the first image"} to ${r.until || "the last"}` : "whole history");
    const listed = page.items.length
      ? el("ul", { class: "report-list" }, ...page.items.map((r) => el("li", { dataset: { report: r.id } },
        el("span", { class: "d tip", tabindex: "0", title: siteDayTitle("made", r.created_at, site.local_zone) },
          siteDay(r.created_at, site.local_zone)), ` ${period(r)}: `,
        // each link made from the report's id, the API's own path, never taken from the
        // answer's `links` (review, 2026-12-07, session 50: a report.json in the shared
        // folder with "javascript:..." there ran script in this page at a click)
        ...r.formats.filter((f) => f === "html" || f === "pdf").flatMap((f, i) => [i ? " · " : "",
          el("a", { href: `/api/reports/${encodeURIComponent(r.id)}/${f}`, download: "", class: `report-${f}` }, `Download ${f.toUpperCase()}`)]))))
      : el("p", { class: "muted reports-none" }, "No report of this site made on this server yet.");
    const more = page.total > page.items.length
      ? el("p", { class: "muted" }, `and ${page.total - page.items.length} older (GET /api/reports?site=${site.name})`) : null;
    if (auth.state && auth.state.writes === "disabled") { box.replaceChildren(listed, ...(more ? [more] : [])); return; }
    const msg = el("p", { id: "report-msg", class: "review-msg report-msg", role: "status" }, ...(said || []));
    const make = el("button", { type: "button", id: "report-make" }, "Make a report (HTML)");
    make.addEventListener("click", async () => {
      make.disabled = true;
      msg.textContent = `making the report of ${scenes.length} image${scenes.length === 1 ? "" : "s"} (tens of seconds for a few hundred)…`;
      let r;
      try {
        r = await api(`/api/sites/${enc}/reports`, { method: "POST", body: {} });
      } catch (err) {
        msg.textContent = err.status === 401 ? "sign in with the API token first (top right)" : err.message;
        make.disabled = false;
        return;
      }
      await loadReports([`Made the report of ${siteDay(r.created_at, site.local_zone)}: download it above.`,
        ...(r.warnings || []).map((w) => el("span", { class: "warn report-warning" }, " " + w))]);
    });
    box.replaceChildren(listed, ...(more ? [more] : []), make, msg);
  }

  /** Mark the alerts of the selected image and bring the first into view. */
  function markAlerts(sc) {
    let first = null;
    for (const n of $("alerts").querySelectorAll(".alert")) {
      const on = Number(n.dataset.scene) === sc.id;
      n.classList.toggle("current", on);
      if (on && !first) first = n;
    }
    if (first) showIn($("alerts"), first);
  }

  let classes;
  try {
    state.alerts = await pending.alerts;
    renderAlerts();
    await loadToReview(pending.toReview);
    const firstCounts = await loadChart("all", pending.counts);
    classes = ["all", ...new Set(firstCounts.length ? (await pending.classes).classes.filter((c) => c !== "all") : [])];
  } catch (err) {
    await failed(err);
    return;
  }
  $("cls").replaceChildren(...classes.map((c) => el("option", { value: c }, c)));
  renderOpen(); // its class buttons, now that the classes can be chosen
  renderEvents();
  loadReports();
  $("cls").addEventListener("change", (e) => {
    state.cls = e.target.value;
    renderAlerts();
    loadChart(state.cls);
  });
  // the chart is drawn again (and its series asked for again) once the resizing ends: it
  // was at each resize event, many while a window's edge is dragged, each asking for the
  // whole series (2026-12-07, session 48: 290 kB each at 1,000 images)
  window.addEventListener("resize", () => {
    clearTimeout(state.resizing);
    state.resizing = setTimeout(() => loadChart($("cls").value), RESIZE_SETTLE_MS);
  });

  /** The address changed without a reload (Back, Forward, a link to another image of
   * the site pasted in this tab): open the image it names. Until 2026-12-07 (session 46)
   * the page read the address only when it loaded. A scene it does not list (removed, or
   * ingested since the page was opened) is said, and the address names the image shown. */
  function followAddress() {
    if (!scenes.length) return;
    const shown = state.index >= 0 ? scenes[state.index] : null;
    const id = decodeURIComponent(location.hash.slice(1));
    const i = scenes.findIndex((sc) => String(sc.id) === id);
    if (i >= 0) {
      if (i !== state.index) select(i, "none");
      return;
    }
    if (!shown) return;
    history.replaceState(null, "", `#${shown.id}`);
    if (id) { // said before the shown image's line, which stays
      for (const n of $("scene-info").querySelectorAll(".unknown-image")) n.remove();
      $("scene-info").prepend(el("span", { class: "warn unknown-image" },
        `The address names scene ${id}, which this page does not list (removed, or added since the page was opened: reload the page to see it); still showing the image of ${localDay(shown, "acquired_at")}. `));
    }
  }
  window.addEventListener("popstate", followAddress);
  window.addEventListener("hashchange", followAddress);

  if (!scenes.length) {
    // nothing to select: say so (the chart above still shows the site's events)
    noImages();
  } else {
    await select(startIndex(), "replace");
  }
  // ready once the total's record is drawn too (the chart was drawn before it came)
  if (state.recordDrawn) await state.recordDrawn;
  document.body.dataset.ready = "1";
})();
