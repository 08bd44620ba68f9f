/* Site page: map (site polygon, image tiles, detections), image stepper, count chart, alerts. */
"use strict";

(async () => {
  const { el, api, all, auth, fmtCount, day, pct } = RW;
  const name = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
  const enc = encodeURIComponent(name);
  const COLOURS = {
    boxcar: "#e8743b", gondola: "#4c9be8", hopper: "#b07cd8", tank: "#f2d53c",
    flat: "#58c98b", container: "#ff6fa8", locomotive: "#ff3b3b",
    railcar: "#d9d9d9", // a railcar whose type the detector is unsure of
  };
  const colour = (c) => COLOURS[c] || "#dddddd";
  const $ = (id) => document.getElementById(id);

  const state = { scenes: [], index: -1, tiles: null, dets: null, chart: null, events: [], alerts: [], cls: "all", seq: 0 };

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

  function legend() {
    $("legend").replaceChildren(
      el("h3", {}, "Legend"),
      ...Object.entries(COLOURS).map(([c, col]) =>
        el("span", { class: "lg" }, el("i", { style: `border-color:${col}` }), c)),
      el("span", { class: "lg" }, el("i", { class: "covered" }), "covered load (dashed)"),
      el("span", { class: "lg" }, el("i", { class: "site" }), "site"),
    );
  }

  /** Whether the site is gone from the database (removed since the page was opened:
   * `railwatch site remove`, or the API's DELETE; a new name is a new site). */
  async function siteGone() {
    try { await api(`/api/sites/${enc}`); return false; } catch (err) { return err.status === 404; }
  }
  const GONE = `site ${name} is no longer in the database (removed since this page was opened): see the site list`;

  /** A request of the page's loading failed: say why (the page stayed on "Loading…"). */
  async function failed(err) {
    const gone = err.status === 404 && await siteGone();
    $("scene-info").replaceChildren(el("span", { class: "error load-error" },
      "Cannot load site: " + (gone ? GONE : err.message) + " "), el("a", { href: "/" }, "site list"));
    if (err.status === 401) auth.explain($("signin-box"));
    document.body.dataset.ready = "1";
  }

  let site;
  try {
    site = await api(`/api/sites/${enc}`);
  } catch (err) {
    await failed(err);
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
  legend();

  /** A request started now and awaited later, where its failure is handled (marked
   * handled here: one the page never awaits is no unhandled rejection). */
  const early = (promise) => { promise.catch(() => {}); return promise; };

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
  };
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

  function sceneLabel(sc) {
    if (sc.status === "unusable") return "unusable";
    if (sc.status !== "processed") return sc.status;
    if (isPresence(sc.count)) return sc.count.long_train_present ? "long train" : "no long train";
    return sc.count ? `${fmtCount(sc.count.total)} cars` : "–";
  }

  const list = $("scenes");
  list.replaceChildren(...scenes.map((sc, i) => {
    const reason = (sc.quality.reasons || []).join("; ");
    return el("li", {},
      el("button", {
        type: "button", class: `scene ${sc.status}`, dataset: { date: day(sc.acquired_at), scene: sc.id },
        title: reason || `${sc.sensor || "image"}, ${sc.gsd} m`, onclick: () => select(i),
      }, el("span", { class: "d" }, day(sc.acquired_at)), el("span", { class: "c" }, sceneLabel(sc))));
  }));
  $("slider").max = Math.max(0, scenes.length - 1);
  $("slider").addEventListener("input", (e) => select(Number(e.target.value)));
  $("prev").addEventListener("click", () => select(state.index - 1));
  $("next").addEventListener("click", () => select(state.index + 1));
  document.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
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

  /** A scene's footprint (its tiles' bounds), read once, when it is first shown. */
  function footprintOf(sc) {
    if (!sc.footprintP) {
      sc.footprintP = api(`/api/scenes/${sc.id}`).then((full) => full.footprint);
      sc.footprintP.catch(() => { sc.footprintP = null; }); // asked again next time
    }
    return sc.footprintP;
  }

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
    state.tiles.addTo(map);
    state.tiles.bringToBack();
  }

  /** The info line of a scene: date, count (or why unusable), clear fraction, GSD. */
  function infoLine(sc) {
    const q = sc.quality;
    return [
      el("strong", {}, day(sc.acquired_at)), " · ",
      sc.status === "processed" && isPresence(sc.count)
        ? el("span", { class: "presence" }, `${presenceText(sc.count)} (${sc.count.method}: 300 m of occupied track or more; no count of cars at this resolution)`)
        : sc.status === "processed" && sc.count
        ? `${fmtCount(sc.count.total)} railcars (${fmtCount(sc.count.low)}–${fmtCount(sc.count.high)}, ${sc.count.method})`
        : sc.status === "unusable" ? el("span", { class: "warn" }, "unusable: " + (q.reasons || []).join("; ")) : sc.status,
      " · clear ", pct(q.clear_fraction), " · ", `${sc.gsd} m`, sc.sensor ? ` · ${sc.sensor}` : "",
    ];
  }

  /** The detections come with the scene's state read with them: a scene processed or
   * counted again since the page listed it is shown as it is now (its info line said
   * "18 railcars" beside "0 detections" of the re-count), in the list too. */
  function refresh(sc, fc) {
    if (fc.status === undefined) return;
    const same = fc.status === sc.status && JSON.stringify(fc.count) === JSON.stringify(sc.count) &&
      JSON.stringify(fc.quality) === JSON.stringify(sc.quality);
    if (same) return;
    Object.assign(sc, { status: fc.status, count: fc.count, quality: fc.quality });
    const button = list.querySelector(`button[data-scene="${sc.id}"]`);
    if (button) {
      button.className = `scene ${sc.status}${button.classList.contains("active") ? " active" : ""}`;
      button.title = (sc.quality.reasons || []).join("; ") || `${sc.sensor || "image"}, ${sc.gsd} m`;
      button.querySelector(".c").textContent = sceneLabel(sc);
    }
    $("scene-info").replaceChildren(...infoLine(sc),
      el("span", { class: "muted recounted" }, " · processed again since the page loaded (the chart is as it was: reload)"),
      el("span", { id: "det-count", class: "muted" }, " · loading detections…"));
  }

  async function select(i) {
    if (!scenes.length) return;
    i = Math.max(0, Math.min(scenes.length - 1, i));
    state.index = i;
    const sc = scenes[i];
    const seq = ++state.seq;
    // asked for before this page's own work below
    const t0 = performance.now();
    const detections = early(detectionsOf(sc));
    const footprint = early(footprintOf(sc));
    $("slider").value = i;
    for (const b of list.querySelectorAll("button.scene")) b.classList.toggle("active", Number(b.dataset.scene) === sc.id);
    list.querySelector(`button[data-scene="${sc.id}"]`)?.scrollIntoView({ block: "nearest" });
    if (state.chart) state.chart.select(sc.id);
    markAlerts(sc);
    history.replaceState(null, "", `#${sc.id}`);
    if (state.dets) { map.removeLayer(state.dets); state.dets = null; }
    $("scene-info").replaceChildren(...infoLine(sc), el("span", { id: "det-count", class: "muted" }, " · loading detections…"));
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
      $("det-count").textContent = ` · ${fc.numberMatched} detections` + (covered ? `, ${covered} covered` : "");
      // timings for benchmarks/bench_web.py (browser performance timeline, no globals)
      performance.measure("rw:detections-load", { start: t0, end: t1 });
      performance.measure("rw:detections-draw", { start: t1, end: performance.now() });
    } catch (err) {
      if (seq !== state.seq) return;
      const gone = err.status === 404 && await siteGone();
      $("det-count").textContent = " · detections unavailable: " + (gone ? GONE : err.message);
    }
    // image tiles after the detections: their rendering would otherwise delay them
    let bounds = null;
    try {
      bounds = await footprint;
    } catch (_) {
      return; // the scene is gone (said above, with its detections): no tiles
    }
    if (seq === state.seq) showTiles(sc, bounds);
  }

  /** Draw the chart of ``cls``; a failure is said in its place (it was an unhandled
   * rejection: the old chart stayed, with no word). */
  async function loadChart(cls, asked = null) {
    let counts;
    try {
      counts = await (asked || all(`/api/sites/${enc}/counts?class=${encodeURIComponent(cls)}`, 10000));
    } catch (err) {
      const gone = err.status === 404 && await siteGone();
      $("chart").replaceChildren(el("p", { class: "error chart-error" }, "Cannot load the counts: " + (gone ? GONE : err.message)));
      state.chart = null;
      return [];
    }
    state.chart = RWChart.draw($("chart"), counts, {
      events: state.events, alerts: state.alerts.filter((a) => a.cls === cls),
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
    });
    if (state.index >= 0) state.chart.select(scenes[state.index].id);
    return counts;
  }

  function renderAlerts() {
    const box = $("alerts");
    if (!state.alerts.length) { box.replaceChildren(el("p", { class: "muted" }, "No alerts.")); return; }
    // the alerts of the class shown in the chart (the site total by default)
    const shown = state.alerts.filter((a) => a.cls === state.cls);
    const others = state.alerts.length - shown.length;
    const hidden = others
      ? el("p", { class: "muted" }, `${others} alert${others === 1 ? "" : "s"} on single classes: choose the class under the chart.`)
      : null;
    if (!shown.length) { box.replaceChildren(el("p", { class: "muted" }, `No alerts for ${state.cls}.`), hidden); return; }
    box.replaceChildren(...shown.map((a) => {
      const note = el("input", { type: "text", class: "ack-note", placeholder: "note (what you checked)", maxlength: 2000 });
      const msg = el("span", { class: "ack-msg" });
      const ack = el("button", { type: "button", class: "ack", onclick: async () => {
        ack.disabled = true;
        msg.textContent = "";
        try {
          // the key: a re-analysis may have given this id to another alert (409)
          const updated = await api(`/api/alerts/${a.id}/acknowledge`, { method: "POST", body: { note: note.value, key: a.key } });
          Object.assign(a, updated);
          renderAlerts();
        } catch (err) {
          msg.textContent = err.status === 401 ? "sign in with the API token first (top right)" : err.message;
          ack.disabled = false;
        }
      } }, "Acknowledge");
      const idx = scenes.findIndex((sc) => sc.id === a.scene_id);
      const current = idx >= 0 && idx === state.index;
      return el("div", { class: `alert sev-${a.severity}${a.acknowledged ? " acked" : ""}${current ? " current" : ""}`,
        dataset: { alert: a.id, date: day(a.when), scene: a.scene_id } },
        el("div", { class: "alert-head" },
          el("span", { class: `badge badge-${a.severity}` }, a.severity), " ",
          el("strong", {}, a.kind), " · ", a.cls, " · ",
          idx >= 0 ? el("a", { href: `#${a.scene_id}`, onclick: (e) => { e.preventDefault(); select(idx); } }, day(a.when)) : day(a.when)),
        el("p", { class: "expl" }, a.explanation),
        a.event_label ? el("p", { class: "muted" }, `event: ${a.event_label} (${a.event_days} days before)`) : null,
        a.acknowledged
          ? el("p", { class: "acked-note" }, `Acknowledged ${day(a.ack_at)}` + (a.ack_note ? `: ${a.ack_note}` : ""))
          : el("div", { class: "ack-row" }, note, ack, msg));
    }), hidden);
  }

  /** Mark the alerts of the selected image and bring the first into view. */
  function markAlerts(sc) {
    let first = null;
    for (const n of $("alerts").querySelectorAll(".alert")) {
      const on = Number(n.dataset.scene) === sc.id;
      n.classList.toggle("current", on);
      if (on && !first) first = n;
    }
    if (first) first.scrollIntoView({ block: "nearest" });
  }

  let classes;
  try {
    state.alerts = await pending.alerts;
    renderAlerts();
    const firstCounts = await loadChart("all", pending.counts);
    classes = ["all", ...new Set(firstCounts.length ? (await pending.classes).classes.filter((c) => c !== "all") : [])];
  } catch (err) {
    await failed(err);
    return;
  }
  $("cls").replaceChildren(...classes.map((c) => el("option", { value: c }, c)));
  $("cls").addEventListener("change", (e) => {
    state.cls = e.target.value;
    renderAlerts();
    loadChart(state.cls);
  });
  window.addEventListener("resize", () => loadChart($("cls").value));

  if (!scenes.length) {
    // nothing to select: say so (the chart above still shows the site's events)
    $("scene-info").replaceChildren(el("span", { class: "muted no-images" },
      `No images of this site yet: add some with "railwatch ingest ${site.name} FILES…" ` +
      `(or ingest-stac), then process them ("railwatch process ${site.name}" or a job).`));
  } else {
    await select(startIndex());
  }
  document.body.dataset.ready = "1";
})();
