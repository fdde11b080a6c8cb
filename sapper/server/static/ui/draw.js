// Drawing one polygon by clicking its corners: enough for a team leader to outline the area
// worked, with no drawing library. The area shown is an estimate for the eye; the register
// measures the stored polygon itself (in the UTM zone of the data).
/* global L */

const EARTH_RADIUS = 6371008.8;

export class AreaDrawer {
  constructor(map, onChange) {
    this.map = map;
    this.onChange = onChange;
    this.points = [];
    this.shape = L.polygon([], { color: "#0b5394", weight: 2, fillColor: "#0b5394", fillOpacity: 0.25 }).addTo(map);
    this.corners = L.layerGroup().addTo(map);
    this.enabled = true; // off while a click on the map means something else
    map.on("click", (event) => this.enabled && this.add(event.latlng));
  }

  add(latlng) {
    this.points.push(latlng);
    this.redraw();
  }

  undo() {
    this.points.pop();
    this.redraw();
  }

  clear() {
    this.points = [];
    this.redraw();
  }

  redraw() {
    this.shape.setLatLngs(this.points);
    this.corners.clearLayers();
    for (const p of this.points) {
      L.circleMarker(p, { radius: 4, color: "#0b5394", fillColor: "#fff", fillOpacity: 1, weight: 2 }).addTo(this.corners);
    }
    this.onChange?.(this);
  }

  // GeoJSON Polygon (lon, lat), closed; null until there are three corners.
  geometry() {
    if (this.points.length < 3) return null;
    const ring = this.points.map((p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))]);
    ring.push(ring[0]);
    return { type: "Polygon", coordinates: [ring] };
  }

  // Shoelace area on a local equirectangular projection: close enough at a city's scale.
  areaM2() {
    if (this.points.length < 3) return 0;
    const lat0 = (this.points.reduce((a, p) => a + p.lat, 0) / this.points.length) * (Math.PI / 180);
    const xy = this.points.map((p) => [
      EARTH_RADIUS * (p.lng * Math.PI / 180) * Math.cos(lat0),
      EARTH_RADIUS * (p.lat * Math.PI / 180),
    ]);
    let twice = 0;
    xy.forEach(([x, y], i) => {
      const [nx, ny] = xy[(i + 1) % xy.length];
      twice += x * ny - nx * y;
    });
    return Math.abs(twice) / 2;
  }
}
