// nisd map: builds every layer from the JSON payload with DOM text nodes only.
(function () {
  "use strict";
  var P = JSON.parse(document.getElementById("nisd-data").textContent);
  // the page's words (English is the key) and numbers in the page's language
  var W = P.words || {};
  function T(s) { return Object.prototype.hasOwnProperty.call(W, s) ? W[s] : s; }
  function F(s, f) { return T(s).replace(/\{(\w+)\}/g, function (m, k) { return k in f ? String(f[k]) : m; }); }
  var LANG = document.documentElement.lang || "en";
  var NUM = new Intl.NumberFormat(LANG, { maximumFractionDigits: 2 });
  var PCT = new Intl.NumberFormat(LANG, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
  function N(x) { return NUM.format(x); }
  var COLORS = { core: "#1f4e9c", regional: "#2a9d8f", kept: "#2a9d8f", added: "#1f4e9c",
    removed: "#e63946" };
  var CRIT = { critical: "#b5179e", high: "#f4a261", normal: "#8d99ae" };
  var canvas = L.canvas({ padding: 0.5 });
  var map = L.map("map", { preferCanvas: true, renderer: canvas, zoomSnap: 0.25 });
  map.fitBounds(P.bbox);
  map.attributionControl.setPrefix("Leaflet (inlined) · nisd");
  if (P.tiles) { L.tileLayer(P.tiles, { maxZoom: 18 }).addTo(map); }
  L.control.scale({ metric: true, imperial: false }).addTo(map);

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function rows(pairs) {
    var t = el("table", null, "popup");
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") { return; }
      var tr = el("tr");
      tr.appendChild(el("th", p[0]));
      tr.appendChild(el("td", p[1]));
      t.appendChild(tr);
    });
    return t;
  }
  function popup(title, pairs) {
    var d = el("div");
    d.appendChild(el("h3", title));
    d.appendChild(rows(pairs));
    return d;
  }

  // basemap: the dataset's own polygons
  var counties = L.geoJSON(P.regions, {
    filter: function (f) { return f.properties.kind === "county"; },
    style: { color: "#6c757d", weight: 0.8, fillColor: "#f1f3f5", fillOpacity: 1 },
    onEachFeature: function (f, layer) { layer.bindTooltip(el("span", f.properties.name)); }
  }).addTo(map);
  var zones = L.geoJSON(P.regions, {
    filter: function (f) { return f.properties.kind === "power_zone"; },
    style: { color: "#e76f51", weight: 2, dashArray: "6 4", fill: false },
    onEachFeature: function (f, layer) { layer.bindTooltip(el("span", f.properties.name)); }
  });

  var linkLayer = L.layerGroup().addTo(map);
  var linkById = {};
  P.links.forEach(function (lk) {
    var line = L.polyline(lk.coords, { color: lk.path === "red" ? "#c1121f" : (lk.path === "green" ? "#2d6a4f" : "#495057"),
      weight: 2, opacity: 0.7, renderer: canvas });
    line.bindPopup(popup(lk.id, [[T("shared-risk groups"), lk.srlg.join(", ")], [T("path"), T(lk.path)], [T("length"), N(lk.length_km) + " km"]]));
    line.addTo(linkLayer);
    linkById[lk.id] = line;
  });

  var nodeLayer = L.layerGroup().addTo(map);
  var nodeMarker = {};
  (P.nodes || []).forEach(function (n) {
    var m = L.circleMarker([n.lat, n.lon], { radius: 3, color: "#212529", weight: 1, fillColor: "#212529",
      fillOpacity: 0.9, renderer: canvas });
    m.bindPopup(popup(n.name, [[T("backbone node"), n.id], [T("operator"), n.operator]]));
    m.addTo(nodeLayer);
    nodeMarker[n.id] = m;
  });

  var hazardLayer = L.layerGroup().addTo(map);
  P.hazards.forEach(function (h) {
    var g = h.geometry;
    var info = popup(h.name, [[T("class"), T(h.class)], [T("buffer"), N(h.buffer_km) + " km"]]);
    if (g.type === "Point") {
      L.circle([g.coordinates[1], g.coordinates[0]], { radius: h.buffer_km * 1000, color: "#d00000", weight: 1, fillOpacity: 0.08 })
        .bindPopup(info).addTo(hazardLayer);
      L.circleMarker([g.coordinates[1], g.coordinates[0]], { radius: 4, color: "#d00000", fillOpacity: 1 })
        .bindTooltip(el("span", h.name)).addTo(hazardLayer);
    } else {
      L.geoJSON(g, { style: { color: "#d00000", weight: 1, fillOpacity: 0.15 } }).bindPopup(info).addTo(hazardLayer);
    }
  });

  // Every assignment line (off at first: a hundred lines hide the fibre and the sites);
  // selecting a site or a user draws just its own lines in the "Selected" layer.
  function assignLine(a, weight) {
    return L.polyline(a.coords, { color: a.rank === 0 ? "#1d3557" : "#457b9d", weight: a.rank === 0 ? weight : weight * 0.75,
      dashArray: a.rank === 0 ? null : "4 4", opacity: 0.8, renderer: canvas });
  }
  var lineLayer = L.layerGroup();
  P.lines.forEach(function (a) { assignLine(a, 1.6).addTo(lineLayer); });
  var selectedLayer = L.layerGroup().addTo(map);
  function select(key, ids) {
    selectedLayer.clearLayers();
    P.lines.forEach(function (a) { if (ids[a[key]]) { assignLine(a, 2.5).addTo(selectedLayer); } });
  }
  function one(id) { var o = {}; o[id] = true; return o; }

  // one marker per place: the users of one place (every agency's users in a county)
  // would stack on one point with only the top one clickable; the marker's popup lists
  // them all, its size is their load, its colour their most critical class
  var demandLayer = L.layerGroup().addTo(map);
  var demandMarker = {};  // user id -> the marker of its place
  var placeMarkers = [];
  var userById = {};
  P.demand.forEach(function (d) { userById[d.id] = d; });
  function racks(x) { return F("{n} racks", { n: N(x) }); }
  var siteName = {};
  P.sites.forEach(function (s) { siteName[s.id] = s.name; });
  function servedBy(d) { return d.assigned.map(function (id) { return siteName[id] || id; }).join(" → "); }
  (P.places || []).forEach(function (pl) {
    var users = pl.users.map(function (id) { return userById[id]; });
    var colour = CRIT[pl.criticality] || "#555";
    var m = L.circleMarker([pl.lat, pl.lon], { radius: 3 + Math.sqrt(pl.load), color: colour, fillColor: colour,
      weight: 1, fillOpacity: 0.5, renderer: canvas });
    if (users.length === 1) {
      var d = users[0];
      m.bindPopup(popup(d.name, [[T("id"), d.id], [T("load"), racks(d.load)], [T("criticality"), T(d.criticality)],
        [T("served by"), servedBy(d)]]));
      m.bindTooltip(el("span", d.name));
    } else {
      m.bindPopup(popup(F("{n} users here, {racks}", { n: users.length, racks: racks(pl.load) }), users.map(function (d) {
        return [d.name, F("{racks}, {cls}; served by {sites}", { racks: racks(d.load), cls: T(d.criticality), sites: servedBy(d) || T("nobody") })];
      })), { maxHeight: 320 });
      m.bindTooltip(el("span", F("{name} and {n} more", { name: users[0].name, n: users.length - 1 })));
    }
    var ids = {}; pl.users.forEach(function (id) { ids[id] = true; demandMarker[id] = m; });
    m.nisdColour = colour;
    m.nisdUsers = ids;
    m.on("click", function () { select("demand", ids); });
    m.addTo(demandLayer);
    placeMarkers.push(m);
  });

  var candLayer = L.layerGroup();
  var openLayers = {};
  var siteMarker = {};
  P.sites.forEach(function (s) {
    var pairs = [[T("id"), s.id], [T("county"), s.county], [T("power zone"), s.zone]];
    if (s.type) {
      pairs.push([T("type"), T(s.type)]);
      pairs.push([T("capacity used"), s.capacity !== null ? F("{used} of {cap} racks (primary load)", { used: N(s.used), cap: N(s.capacity) }) : F("{used} racks (primary load)", { used: N(s.used) })]);
      if (s.peak_load !== null && s.peak_load !== undefined) {
        pairs.push([T("busiest crisis"), racks(s.peak_load) + (s.peak_scenario ? " (" + s.peak_scenario + ")" : "")]);
      }
      pairs.push([T("primary for"), s.primary_for.join(", ")]);
      pairs.push([T("backup for"), s.backup_for.join(", ")]);
    } else {
      pairs.push([T("status"), T("candidate, not chosen")]);
    }
    if (s.hazard_km !== null) { pairs.push([T("nearest hazard"), s.hazard + ", " + N(s.hazard_km) + " km"]); }
    if (s.regret !== null) { pairs.push([T("regret (cost if removed)"), typeof s.regret === "number" ? N(s.regret) : T(s.regret)]); }
    var m;
    if (s.type) {
      m = L.circleMarker([s.lat, s.lon], { radius: s.type === "core" ? 11 : 8, color: "#000", weight: 2,
        fillColor: COLORS[s.type] || "#264653", fillOpacity: 0.95, renderer: canvas });
      m.bindTooltip(el("span", s.name), { permanent: true, direction: "right", offset: [8, 0], className: "label" });
      if (!openLayers[s.type]) { openLayers[s.type] = L.layerGroup().addTo(map); }
      m.addTo(openLayers[s.type]);
    } else {
      m = L.circleMarker([s.lat, s.lon], { radius: 3, color: "#6c757d", weight: 1, fillColor: "#fff", fillOpacity: 1, renderer: canvas });
      m.bindTooltip(el("span", s.name));
      m.addTo(candLayer);
    }
    m.bindPopup(popup(s.name, pairs));
    if (s.type) { m.on("click", function () { select("site", one(s.id)); }); }
    siteMarker[s.id] = m;
  });

  var overlays = {};
  [["Counties", counties], ["Power zones", zones], ["Fibre links", linkLayer], ["Backbone nodes", nodeLayer],
    ["Hazards", hazardLayer], ["Selected site's or user's assignments", selectedLayer],
    ["All assignments", lineLayer], ["Demand", demandLayer], ["Candidates not chosen", candLayer]]
    .forEach(function (o) { overlays[T(o[0])] = o[1]; });
  Object.keys(openLayers).sort().forEach(function (t) { overlays[F("Opened: {type}", { type: T(t) })] = openLayers[t]; });
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);

  // KPI panel
  var kpi = document.getElementById("kpis");
  var k = P.kpis || {};
  function none(v) { return v === null || v === undefined; }
  function fmt(v, unit) { return none(v) ? T("n/a") : (typeof v === "number" ? N(v) + (unit ? " " + T(unit) : "") : T(String(v))); }
  function pct(v) { return none(v) ? T("n/a") : PCT.format(v); }
  kpi.appendChild(rows([
    [T("status"), fmt(k.status) + (k.gap ? " (" + F("gap {gap}", { gap: pct(k.gap) }) + ")" : "")],
    [T("objective"), fmt(k.objective)],
    [T("cost"), fmt(k.cost_msek, "MSEK/year")],
    [T("sites"), fmt(k.sites)],
    [T("mean latency"), fmt(k.mean_latency_ms, "ms")],
    [T("max latency"), fmt(k.max_latency_ms, "ms")],
    [T("worst-case share served (required scenarios)"), pct(k.worst_case_share_served) + (k.worst_case_scenario ? " (" + k.worst_case_scenario + ")" : "")],
    [T("worst-case share served (all shown)"), none(k.worst_all_share) ? T("n/a") : pct(k.worst_all_share) + " (" + k.worst_all_scenario + ")"]
  ].concat(Object.keys(k.worst_case_by_class || {}).map(function (c) {
    var w = k.worst_case_by_class[c];
    return [F("worst case, {cls}", { cls: T(c) }), pct(w.share) + " (" + w.scenario + ")"];
  }))));

  // crisis view
  var sel = document.getElementById("scenario");
  var out = document.getElementById("scenario-info");
  sel.appendChild(el("option", T("peace: nothing failed")));
  P.scenarios.forEach(function (sc, i) { var o = el("option", (W[sc.meaning] || sc.name) + " (" + PCT.format(sc.row.demand_served_share) + ")"); o.value = String(i); sel.appendChild(o); });
  function reset() {
    Object.keys(siteMarker).forEach(function (id) { var s = siteMarker[id]; s.setStyle({ opacity: 1, fillOpacity: s.options.radius > 3 ? 0.95 : 1, color: s.options.radius > 3 ? "#000" : "#6c757d" }); });
    Object.keys(linkById).forEach(function (id) { linkById[id].setStyle({ opacity: 0.7, dashArray: null }); });
    Object.keys(nodeMarker).forEach(function (id) { nodeMarker[id].setStyle({ color: "#212529", fillColor: "#212529" }); });
    placeMarkers.forEach(function (m) { m.setStyle({ color: m.nisdColour, fillColor: m.nisdColour }); });
    Object.keys(siteMarker).forEach(function (id) { siteMarker[id].setStyle({ weight: siteMarker[id].options.radius > 3 ? 2 : 1 }); });
  }
  sel.addEventListener("change", function () {
    reset();
    out.textContent = "";
    if (sel.value === "" || sel.selectedIndex === 0) { return; }
    var sc = P.scenarios[Number(sel.value)];
    var r = sc.row;
    sc.sites.forEach(function (id) { if (siteMarker[id]) { siteMarker[id].setStyle({ color: "#adb5bd", fillColor: "#adb5bd", fillOpacity: 0.6 }); } });
    sc.nodes.forEach(function (id) { if (nodeMarker[id]) { nodeMarker[id].setStyle({ color: "#adb5bd", fillColor: "#adb5bd" }); } });
    var srl = {}; sc.srlgs.forEach(function (g) { srl[g] = true; });
    P.links.forEach(function (lk) {
      var down = sc.links.indexOf(lk.id) >= 0 || lk.srlg.some(function (g) { return srl[g]; });
      if (down) { linkById[lk.id].setStyle({ opacity: 0.25, dashArray: "2 6" }); }
    });
    Object.keys(r.partly_served).forEach(function (id) { if (demandMarker[id]) { demandMarker[id].setStyle({ color: "#ff7b00", fillColor: "#ff7b00" }); } });
    r.unserved.forEach(function (id) { if (demandMarker[id]) { demandMarker[id].setStyle({ color: "#d00000", fillColor: "#d00000" }); } });
    r.full_sites.forEach(function (id) { if (siteMarker[id]) { siteMarker[id].setStyle({ color: "#d00000", weight: 4 }); } });
    out.appendChild(el("p", T(sc.meaning)));
    var by = Object.keys(r.served_by_class).filter(function (c) { return r.served_by_class[c] !== null; })
      .map(function (c) { return T(c) + " " + PCT.format(r.served_by_class[c]); }).join(", ");
    out.appendChild(el("p", F("served: {share} of the load", { share: PCT.format(r.demand_served_share) }) + (by ? " (" + by + ")" : "") +
      (r.levels_met === false ? T("; service levels NOT met") : (r.levels_met ? T("; service levels met") : ""))));
    out.appendChild(el("p", F("lose all service: {lost}; partly served: {partly}; cut off from every site: {cut}; running full: {full}", {
      lost: r.unserved.length ? F("{n} demand point(s)", { n: r.unserved.length }) : T("none"),
      partly: Object.keys(r.partly_served).length, cut: r.cut_off.length,
      full: r.full_sites.length ? F("{n} site(s), ringed red", { n: r.full_sites.length }) : T("none") })));
  });
  // a roll-out's year control: sites appear as they enter service (hollow while being
  // built), users as they join, the assignment lines are the year's
  var yearIndex = null;
  var branchIndex = null;
  var showBranch = function () {};
  function showYear(i) {
    var Y = P.years[i];
    yearIndex = i;
    var building = {}; Y.building.forEach(function (id) { building[id] = true; });
    P.sites.forEach(function (s) {
      if (!s.type) { return; }
      var m = siteMarker[s.id];
      if (Y.sites[s.id]) {
        m.setStyle({ opacity: 1, fillOpacity: 0.95, dashArray: null });
        if (m.getTooltip()) { m.getTooltip().setOpacity(1); }
      } else if (building[s.id]) {
        m.setStyle({ opacity: 1, fillOpacity: 0.1, dashArray: "3 3" });
        if (m.getTooltip()) { m.getTooltip().setOpacity(0.6); }
      } else {
        m.setStyle({ opacity: 0, fillOpacity: 0 });
        if (m.getTooltip()) { m.getTooltip().setOpacity(0); }
      }
    });
    var on = {}; Object.keys(Y.assigned).forEach(function (id) { on[id] = true; });
    placeMarkers.forEach(function (m) {
      var any = Object.keys(m.nisdUsers).some(function (id) { return on[id]; });
      m.setStyle(any ? { opacity: 1, fillOpacity: 0.5 } : { opacity: 0, fillOpacity: 0 });
    });
    lineLayer.clearLayers();
    selectedLayer.clearLayers();
    Y.lines.forEach(function (a) { assignLine(a, 1.6).addTo(lineLayer); });
    P.lines = Y.lines;
    var info = document.getElementById("year-info");
    info.textContent = F("{year}: {sites} site(s) in service, {building} being built, {users} user(s) on board", {
      year: Y.year, sites: Object.keys(Y.sites).length, building: Y.building.length, users: Object.keys(Y.assigned).length }) +
      (Y.holds.length ? F("; holds: {sets}", { sets: Y.holds.map(T).join(", ") }) : T("; no crisis set holds yet"));
  }
  if (P.years && P.years.length) {
    var side = document.getElementById("side");
    var box = el("div", null, "years");
    box.appendChild(el("h2", T("Year")));
    var range = el("input");
    range.type = "range"; range.id = "year"; range.min = "0"; range.max = String(P.years.length - 1);
    range.step = "1"; range.value = String(P.years.length - 1);
    range.setAttribute("aria-label", T("year of the roll-out"));
    var label = el("p", null); label.id = "year-info";
    box.appendChild(range); box.appendChild(label);
    side.insertBefore(box, side.children[1] || null);
    range.addEventListener("input", function () { showYear(Number(range.value)); });
    showYear(P.years.length - 1);
    // a roll-out under uncertainty: the futures' years, switched by the report's own
    // control when the page has one, else by a control of the map's
    if (P.branches && P.branches.length > 1) {
      branchIndex = P.shown_branch || 0;
      showBranch = function (i) {
        branchIndex = i;
        P.years = P.branches[i].years;
        range.max = String(P.years.length - 1);
        var at = Math.min(Number(range.value), P.years.length - 1);
        range.value = String(at);
        showYear(at);
      };
      var outer = document.getElementById("branch");
      if (outer) {
        outer.addEventListener("change", function () { showBranch(Number(outer.value)); });
      } else {
        var pick = el("select"); pick.id = "map-branch";
        P.branches.forEach(function (b, i) {
          var o = el("option", b.name); o.value = String(i); o.selected = i === branchIndex;
          pick.appendChild(o);
        });
        var lab = el("label", T("Show the future")); lab.setAttribute("for", "map-branch");
        box.insertBefore(lab, range); box.insertBefore(pick, range);
        pick.addEventListener("change", function () { showBranch(Number(pick.value)); });
      }
    }
  }

  // read-only handles for tests and for analysts' browser consoles
  window.nisdMap = { map: map, overlays: overlays, sites: siteMarker, demand: demandMarker, places: placeMarkers,
    nodes: nodeMarker, links: linkById, selected: selectedLayer, lines: lineLayer,
    year: function () { return yearIndex === null ? null : P.years[yearIndex].year; },
    branch: function () { return branchIndex === null ? null : P.branches[branchIndex].name; },
    showBranch: function (name) { (P.branches || []).forEach(function (b, i) { if (b.name === name) { showBranch(i); } }); },
    showYear: function (y) { P.years.forEach(function (Y, i) { if (Y.year === y) { showYear(i); } }); } };
  document.body.setAttribute("data-ready", "1");
})();
