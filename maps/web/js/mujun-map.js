/* mujun web maps: tiled polygon layers, popups, legends. No network: tiles and
 * attributes are either embedded in the page or loaded with <script> tags from the
 * folder beside it (a page opened from file:// cannot fetch() files in Chromium). */
(function () {
  "use strict";
  var M = window.mujun = window.mujun || {};
  M.store = M.store || {};      // "layer/z/x/y" -> decoded features, "layer/a/N" -> rows
  M.waiting = M.waiting || {};
  M.layers = M.layers || {};
  M.pending = 0;                 // scripts requested and not yet arrived

  // Leaflet.VectorGrid 1.3 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed:
  // mark the event as handled so the map does not also treat it as a click on nothing.
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; };
  }

  function b64ints(text) {
    var bin = atob(text), n = bin.length, bytes = new Uint8Array(n);
    for (var i = 0; i < n; i++) bytes[i] = bin.charCodeAt(i);
    return new Int32Array(bytes.buffer);
  }

  function decode(f, r, c) {
    f = b64ints(f); r = b64ints(r); c = b64ints(c);
    var feats = [], ri = 0, pi = 0;
    for (var i = 0; i < f.length; i += 3) {
      var rings = [];
      for (var k = 0; k < f[i + 2]; k++, ri++) {
        var len = r[ri], ring = new Array(len), x = 0, y = 0;
        for (var j = 0; j < len; j++, pi++) {
          x += c[2 * pi]; y += c[2 * pi + 1];
          ring[j] = [x, y];
        }
        rings.push(ring);
      }
      feats.push({type: 3, geometry: rings, properties: {i: f[i], k: f[i + 1]}});
    }
    return feats;
  }

  function deliver(key, value) {
    M.store[key] = value;
    var cbs = M.waiting[key] || [];
    delete M.waiting[key];
    cbs.forEach(function (cb) { cb(value); });
  }

  // Called by embedded data and by tile scripts: mujun.tile("id", z, x, y, f, r, c)
  M.tile = function (layer, z, x, y, f, r, c) {
    deliver(layer + "/" + z + "/" + x + "/" + y, decode(f, r, c));
  };
  // Attribute rows of features [chunk * size, (chunk + 1) * size): mujun.attrs("id", chunk, rows)
  M.attrs = function (layer, chunk, rows) { deliver(layer + "/a/" + chunk, rows); };

  function load(key, src, cb) {
    if (key in M.store) { cb(M.store[key]); return; }
    var first = !(key in M.waiting);
    (M.waiting[key] = M.waiting[key] || []).push(cb);
    if (!first) return;
    M.pending++;
    var s = document.createElement("script");
    s.src = src;
    s.onload = function () { M.pending--; if (!(key in M.store)) deliver(key, null); };
    s.onerror = function () { M.pending--; deliver(key, null); };
    document.head.appendChild(s);
  }

  // The tiled polygon layer (Leaflet.VectorGrid with our tile source).
  L.MujunTiles = L.VectorGrid.extend({
    _getVectorTilePromise: function (coords) {
      var cfg = this.options.mujun, key = coords.z + "/" + coords.x + "/" + coords.y;
      var name = cfg.id;
      return new Promise(function (resolve) {
        if (!cfg.index[key]) { resolve({layers: {}}); return; }
        load(name + "/" + key, cfg.base + "/" + key + ".js", function (feats) {
          var layers = {};
          layers[name] = {extent: cfg.extent, features: feats || []};
          resolve({layers: layers});
        });
      });
    }
  });

  function style(cfg) {
    return function (p, z) {
      var colour = p.k >= 0 ? cfg.colours[p.k] : cfg.other;
      return {fill: true, fillColor: colour, fillOpacity: cfg.opacity, color: p.i < 0 ? colour : cfg.outline,
              weight: p.i < 0 ? 0 : (z >= 15 ? 0.6 : 0.25), opacity: 0.9};
    };
  }

  function esc(v) {
    return String(v).replace(/[&<>"]/g, function (ch) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[ch];
    });
  }

  function fmt(v) {
    if (v === null || v === undefined || v === "") return "–";
    if (typeof v === "number") return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
    return esc(v);
  }

  M.popupHtml = function (cfg, row) {
    var html = "<table class='mujun-popup'>";
    cfg.columns.forEach(function (c, i) {
      html += "<tr><th>" + esc(cfg.labels[i]) + "</th><td>" + fmt(row[i]) + "</td></tr>";
    });
    return html + "</table>";
  };

  function openPopup(map, cfg, props, latlng) {
    var popup = L.popup({maxWidth: 360});
    if (props.i < 0) {
      var label = props.k >= 0 ? cfg.keyLabels[props.k] : cfg.otherLabel;
      popup.setLatLng(latlng).setContent(
        "<b>" + esc(cfg.cellText.replace("{n}", -props.i)) + "</b><br>" + esc(label)).openOn(map);
      return;
    }
    var chunk = Math.floor(props.i / cfg.chunk);
    load(cfg.id + "/a/" + chunk, cfg.base + "/a/" + chunk + ".js", function (rows) {
      var row = rows ? rows[props.i - chunk * cfg.chunk] : null;
      popup.setLatLng(latlng).setContent(row ? M.popupHtml(cfg, row) : "?").openOn(map);
    });
  }

  // Which feature of a tiled layer is under a point: even-odd test on the rings of the
  // tile that holds it at the native zoom (works when tiles are over-zoomed, where
  // VectorGrid's own hit test is off). A click that comes before that tile has arrived
  // loads it first, so a quick click still gets its popup: cb(properties or null).
  function featureAt(map, cfg, latlng, cb) {
    var z = Math.max(cfg.minZoom, Math.min(Math.round(map.getZoom()), cfg.maxNative));
    var p = map.project(latlng, z);
    var tx = Math.floor(p.x / 256), ty = Math.floor(p.y / 256);
    var key = z + "/" + tx + "/" + ty;
    if (!cfg.index[key]) { cb(null); return; }
    load(cfg.id + "/" + key, cfg.base + "/" + key + ".js", function (feats) {
      cb(feats ? hit(feats, cfg, p.x - tx * 256, p.y - ty * 256) : null);
    });
  }

  function hit(feats, cfg, px, py) {
    var u = px * cfg.extent / 256, v = py * cfg.extent / 256;
    for (var i = feats.length - 1; i >= 0; i--) {
      var inside = false, rings = feats[i].geometry;
      for (var r = 0; r < rings.length; r++) {
        var ring = rings[r];
        for (var a = 0, b = ring.length - 1; a < ring.length; b = a++) {
          var xa = ring[a][0], ya = ring[a][1], xb = ring[b][0], yb = ring[b][1];
          if (((ya > v) !== (yb > v)) && (u < (xb - xa) * (v - ya) / (yb - ya) + xa)) inside = !inside;
        }
      }
      if (inside) return feats[i].properties;
    }
    return null;
  }

  M.tiledLayer = function (map, cfg) {
    // our own pane above the overlay pane: the map's canvas renderer (town outlines)
    // lives there
    if (!map.getPane("mujunTiles")) {
      map.createPane("mujunTiles");
      map.getPane("mujunTiles").style.zIndex = 450;
      map.getPane("mujunTiles").style.pointerEvents = "none";
    }
    var styles = {};
    styles[cfg.id] = style(cfg);
    var layer = new L.MujunTiles({
      rendererFactory: L.canvas.tile, interactive: false, vectorTileLayerStyles: styles,
      maxNativeZoom: cfg.maxNative, minNativeZoom: cfg.minZoom, maxZoom: 22, mujun: cfg,
      pane: "mujunTiles"
    });
    map.on("click", function (e) {
      if (!map.hasLayer(layer)) return;
      featureAt(map, cfg, e.latlng, function (props) {
        if (props) openPopup(map, cfg, props, e.latlng);
      });
    });
    M.layers[cfg.id] = layer;
    return layer;
  };

  M.legend = function (map, spec) {
    var ctl = L.control({position: spec.position || "bottomright"});
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "mujun-legend");
      var html = "<div class='mujun-legend-title'>" + esc(spec.title) + "</div>";
      spec.rows.forEach(function (r) {
        html += "<div class='mujun-legend-row'><i style='background:" + r[0] + "'></i>" + esc(r[1]) + "</div>";
      });
      if (spec.note) html += "<div class='mujun-legend-note'>" + esc(spec.note) + "</div>";
      div.innerHTML = html;
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(map);
    return ctl;
  };

  M.title = function (map, spec) {
    var ctl = L.control({position: "topleft"});
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "mujun-title");
      div.innerHTML = "<div class='mujun-title-main'>" + esc(spec.title) + "</div>" +
        "<div class='mujun-title-sub'>" + esc(spec.subtitle) + "</div>";
      return div;
    };
    ctl.addTo(map);
  };

  // Resolves when every tile layer on the map has drawn its visible tiles.
  M.whenDrawn = function (map) {
    return new Promise(function (resolve) {
      function check() {
        var busy = M.pending > 0;
        map.eachLayer(function (l) {
          if (l instanceof L.GridLayer && l._loading) busy = true;
        });
        if (busy) setTimeout(check, 20); else requestAnimationFrame(function () { resolve(true); });
      }
      // a frame first: layers added with the page may not have asked for tiles yet
      requestAnimationFrame(function () { setTimeout(check, 0); });
    });
  };
})();
