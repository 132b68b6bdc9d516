// The comparison page: choose two score runs; transition matrix, land and tax per class,
// changed firms with the items that moved them, shifts per town and industry, and the
// class-change map. No inline scripts (CSP); server text goes in with textContent only.
"use strict";

(function () {
  const body = document.body;
  const T = JSON.parse(body.dataset.i18n);
  const $ = (sel) => document.querySelector(sel);
  const state = { map: null, layer: null, legend: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ""));
  const num = (x, d) => (x === null || x === undefined || Number.isNaN(Number(x)) ? "-"
    : Number(x).toLocaleString(body.dataset.lang === "zh" ? "zh-CN" : "en",
      { minimumFractionDigits: d, maximumFractionDigits: d }));

  function message(text, isError) {
    const m = $("#compare-message");
    m.textContent = text || "";
    m.className = isError ? "error" : "muted";
  }

  async function api(path) {
    const res = await fetch(path, { credentials: "same-origin" });
    if (res.status === 401) { window.location.assign("/login"); throw new Error("logged out"); }
    const data = (res.headers.get("content-type") || "").includes("json") ? await res.json() : null;
    if (!res.ok) throw new Error((data && data.error) || res.statusText);
    return data;
  }

  function table(node, headers, rows, numeric) {
    node.replaceChildren(
      el("thead", {}, el("tr", {}, headers.map((h, i) =>
        el("th", { class: numeric && numeric[i] ? "num" : null }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((cell, i) =>
        (cell instanceof Node ? cell
          : el("td", { class: numeric && numeric[i] ? "num" : null }, cell)))))));
  }

  // ------------------------------------------------------------------ runs
  async function loadRuns() {
    const runs = await api("/api/compare/runs");
    const a = $("#run-a"), b = $("#run-b");
    for (const select of [a, b]) {
      select.replaceChildren(...runs.map((r) => el("option", { value: r.run_id },
        `${r.run_id} · ${r.ruleset || ""} · ${r.year || ""}`)));
    }
    if (runs.length === 0) message(T.compare_no_runs, true);
    if (runs.length > 1) { b.value = String(runs[0].run_id); a.value = String(runs[1].run_id); }
    const q = new URLSearchParams(window.location.search);
    if (q.get("a")) a.value = q.get("a");
    if (q.get("b")) b.value = q.get("b");
  }

  // ---------------------------------------------------------------- render
  function render(d) {
    const L = d.labels;
    const cls = (c) => (c === "none" || c === "total" ? L.classes[c] : c);
    const F = (k) => L.fields[k] || k;
    $("#compare-summary").textContent =
      `${T.compare_run_a}：${d.titles.a}；${T.compare_run_b}：${d.titles.b}。` +
      fill(T.compare_summary, { firms: num(d.firms, 0), changed: num(d.changed, 0) }) +
      `。${d.class_basis_zh}`;
    // matrix
    const cols = [...d.classes, "total"];
    const rows = [...d.classes, "total"].map((k) => [el("th", {}, cls(k)),
      ...cols.map((c) => el("td", { class: k === c && k !== "total" ? "num diag" : "num" },
        num(d.matrix[k][c], 0)))]);
    table($("#compare-matrix"), [F("from_class"), ...cols.map(cls)], rows);
    // land and tax per class
    const bc = ["firms_a", "land_a", "tax_a", "tax_per_mu_a", "firms_b", "land_b", "tax_b",
      "tax_per_mu_b"];
    table($("#compare-by-class"), [F("class"), ...bc.map(F)],
      d.by_class.map((r) => [L.classes[r.class] || r.class,
        ...bc.map((c) => num(r[c], c.startsWith("firms") ? 0 : 2))]),
      [false, ...bc.map(() => true)]);
    // changed firms
    const ch = ["credit_code", "name", "town", "class_a", "class_b", "shift", "total_a",
      "total_b", "item_1", "points_1", "item_2", "points_2", "item_3", "points_3"];
    const numeric = ch.map((c) => c.startsWith("total") || c.startsWith("points"));
    table($("#compare-changed"), ch.map(F), d.changed_firms.map((r) => ch.map((c) => {
      if (c === "class_a" || c === "class_b") return cls(r[c]);
      if (c === "shift") return L.shifts[r[c]] || r[c];
      if (numeric[ch.indexOf(c)]) return r[c] === null ? "" : num(r[c], 1);
      return r[c] === null ? "" : r[c];
    })), numeric);
    $("#compare-truncated").textContent = d.changed_shown < d.changed
      ? fill(T.compare_truncated, { shown: d.changed_shown, total: d.changed }) : "";
    // shifts per town and industry
    const sh = d.shifts;
    table($("#compare-by-town"), [F("town"), F("firms"), ...sh.map((s) => L.shifts[s])],
      d.by_town.map((r) => [r.town, ...["firms", ...sh].map((c) => num(r[c], 0))]),
      [false, true, ...sh.map(() => true)]);
    table($("#compare-by-industry"),
      [F("industry_division"), F("industry_name"), F("firms"), ...sh.map((s) => L.shifts[s])],
      d.by_industry.map((r) => [r.industry_division, r.industry_name || "",
        ...["firms", ...sh].map((c) => num(r[c], 0))]),
      [false, false, true, ...sh.map(() => true)]);
    $("#compare-result").hidden = false;
    drawMap(d);
  }

  function drawMap(d) {
    if (!window.L) return;
    const style = d.style;
    const colour = Object.fromEntries(style.categories.map((c) => [c.value, c.colour]));
    if (!state.map) {
      state.map = L.map("compare-map", { attributionControl: false });
    }
    if (state.layer) state.layer.remove();
    if (state.legend) state.legend.remove();
    state.layer = L.geoJSON(d.parcels, {
      style: (f) => ({ color: style.outline || "#4d4d4d", weight: 1,
        fillColor: colour[f.properties.shift] || style.other, fillOpacity: style.opacity }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        const box = el("div", {}, el("b", {}, p.name || p.credit_code), el("br"),
          `${p.parcel_code}`, el("br"),
          `${p.class_a === "none" ? d.labels.classes.none : p.class_a} → ` +
          `${p.class_b === "none" ? d.labels.classes.none : p.class_b}（${d.labels.shifts[p.shift]}）`);
        layer.bindPopup(box);
      },
    }).addTo(state.map);
    const present = new Set(d.parcels.features.map((f) => f.properties.shift));
    const Legend = L.Control.extend({
      onAdd: () => el("div", { class: "legend", id: "compare-legend" },
        el("b", {}, style.title[body.dataset.lang] || style.title.zh),
        style.categories.filter((c) => present.has(c.value)).map((c) => {
          const swatch = el("span", { class: "swatch" });
          swatch.style.background = c.colour;
          return el("div", {}, swatch, d.labels.shifts[c.value]);
        })),
    });
    state.legend = new Legend({ position: "bottomright" }).addTo(state.map);
    const bounds = state.layer.getBounds();
    if (bounds.isValid()) state.map.fitBounds(bounds, { padding: [10, 10] });
    else state.map.setView([31.2, 120.6], 10);
  }

  async function compare(event) {
    if (event) event.preventDefault();
    const a = $("#run-a").value, b = $("#run-b").value;
    if (!a || !b) return;
    message(T.compare_loading, false);
    body.dataset.loaded = "0";
    try {
      const d = await api(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
      render(d);
      message("", false);
      history.replaceState(null, "", `/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
      body.dataset.loaded = "1";
    } catch (err) {
      message(err.message, true);
      body.dataset.loaded = "error";
    }
  }

  $("#compare-form").addEventListener("submit", compare);
  loadRuns().then(() => { body.dataset.ready = "1"; },
    (err) => { message(err.message, true); body.dataset.ready = "1"; });
})();
