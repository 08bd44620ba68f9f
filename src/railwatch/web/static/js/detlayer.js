/* Detections drawn straight onto one canvas: no Leaflet layer object per polygon, so
   thousands of detections per image load, pan and zoom quickly. Rings are projected
   once per zoom level; clicks are hit-tested against the drawn rings. */
"use strict";

const PAD = 0.3;

const RWDetections = L.Layer.extend({
  /** fc: GeoJSON FeatureCollection of Polygons; style(props) -> {stroke, fill, width, dash}. */
  initialize(fc, style, onPick) {
    this._feats = fc.features.filter((f) => f.geometry && f.geometry.type === "Polygon");
    this._style = style;
    this._onPick = onPick;
    this._zoom = null;
    this._proj = null; // per feature: Float64Array of projected x,y at this._zoom
  },

  onAdd(map) {
    this._map = map;
    const c = (this._canvas = L.DomUtil.create("canvas", "det-canvas leaflet-zoom-hide"));
    c.style.position = "absolute";
    c.style.pointerEvents = "none"; // clicks go to the map; hit-tested in _click
    map.getPane("overlayPane").appendChild(c);
    map.on("moveend zoomend resize", this._redraw, this);
    map.on("click", this._click, this);
    this._redraw();
  },

  onRemove(map) {
    map.off("moveend zoomend resize", this._redraw, this);
    map.off("click", this._click, this);
    L.DomUtil.remove(this._canvas);
    this._canvas = null;
  },

  count() { return this._feats.length; },

  _project() {
    const map = this._map, z = map.getZoom();
    if (this._proj && this._zoom === z) return;
    this._zoom = z;
    // Web Mercator pixels at zoom z, as map.project computes them (the map's CRS is
    // EPSG:3857), without allocating a LatLng and a Point per vertex
    const scale = 256 * Math.pow(2, z), D = Math.PI / 180, MAX = Math.sin(85.0511287798 * D);
    this._proj = this._feats.map((f) => {
      const ring = f.geometry.coordinates[0];
      const out = new Float64Array(ring.length * 2);
      for (let i = 0; i < ring.length; i++) {
        const s = Math.max(-MAX, Math.min(MAX, Math.sin(ring[i][1] * D)));
        out[2 * i] = ((ring[i][0] + 180) / 360) * scale;
        out[2 * i + 1] = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale;
      }
      return out;
    });
  },

  _redraw() {
    const map = this._map, c = this._canvas;
    if (!map || !c) return;
    this._project();
    // drawn 30 % beyond the view on each side, so a pan shows polygons before moveend
    const view = map.getSize(), pad = view.multiplyBy(PAD).round();
    const size = view.add(pad.multiplyBy(2)), dpr = window.devicePixelRatio || 1;
    const topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1));
    L.DomUtil.setPosition(c, topLeft);
    c.width = size.x * dpr;
    c.height = size.y * dpr;
    c.style.width = size.x + "px";
    c.style.height = size.y + "px";
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // projected pixel -> canvas pixel
    const origin = map.getPixelOrigin().add(topLeft);
    const ox = origin.x, oy = origin.y, w = size.x, h = size.y;
    // group by style so the context changes a few times, not once per polygon
    const groups = new Map();
    this._feats.forEach((f, k) => {
      const st = this._style(f.properties);
      const key = `${st.stroke}|${st.fill}|${st.width}|${st.dash || ""}`;
      if (!groups.has(key)) groups.set(key, { st, ids: [] });
      groups.get(key).ids.push(k);
    });
    for (const { st, ids } of groups.values()) {
      ctx.beginPath();
      for (const k of ids) {
        const r = this._proj[k];
        let minx = Infinity, maxx = -Infinity, miny = Infinity, maxy = -Infinity;
        for (let i = 0; i < r.length; i += 2) {
          const x = r[i] - ox, y = r[i + 1] - oy;
          if (x < minx) minx = x; if (x > maxx) maxx = x;
          if (y < miny) miny = y; if (y > maxy) maxy = y;
        }
        if (maxx < 0 || maxy < 0 || minx > w || miny > h) continue; // off screen
        ctx.moveTo(r[0] - ox, r[1] - oy);
        for (let i = 2; i < r.length; i += 2) ctx.lineTo(r[i] - ox, r[i + 1] - oy);
        ctx.closePath();
      }
      ctx.globalAlpha = st.fillOpacity;
      ctx.fillStyle = st.fill;
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.strokeStyle = st.stroke;
      ctx.lineWidth = st.width;
      ctx.setLineDash(st.dash || []);
      ctx.stroke();
    }
  },

  _click(e) {
    if (!this._proj || !this._onPick) return;
    const p = this._map.project(e.latlng, this._zoom);
    const tol = 3; // pixels around thin boxes
    for (let k = this._proj.length - 1; k >= 0; k--) {
      if (inside(this._proj[k], p.x, p.y, tol)) { this._onPick(this._feats[k], e.latlng); return; }
    }
  },
});

/** Point in ring (even-odd), or within `tol` pixels of one of its edges. */
function inside(r, x, y, tol) {
  let minx = Infinity, maxx = -Infinity, miny = Infinity, maxy = -Infinity;
  for (let i = 0; i < r.length; i += 2) {
    minx = Math.min(minx, r[i]); maxx = Math.max(maxx, r[i]);
    miny = Math.min(miny, r[i + 1]); maxy = Math.max(maxy, r[i + 1]);
  }
  if (x < minx - tol || x > maxx + tol || y < miny - tol || y > maxy + tol) return false;
  let hit = false;
  for (let i = 0, j = r.length - 2; i < r.length; j = i, i += 2) {
    const xi = r[i], yi = r[i + 1], xj = r[j], yj = r[j + 1];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
    // distance from (x, y) to the edge j-i
    const dx = xi - xj, dy = yi - yj, len2 = dx * dx + dy * dy;
    const t = len2 ? Math.max(0, Math.min(1, ((x - xj) * dx + (y - yj) * dy) / len2)) : 0;
    const ex = xj + t * dx - x, ey = yj + t * dy - y;
    if (ex * ex + ey * ey <= tol * tol) return true;
  }
  return hit;
}
