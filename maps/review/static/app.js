// The review page: filters, list, map, candidate detail, decisions, field notes, appeals.
// No inline scripts (the Content Security Policy forbids them); every text from the
// server is put into the page with textContent, never as HTML.
"use strict";

(function () {
  const body = document.body;
  const T = JSON.parse(body.dataset.i18n);
  const PERMS = JSON.parse(body.dataset.perms);
  const CSRF = body.dataset.csrf;
  const PAGE = 50;
  const state = { offset: 0, total: 0, selected: new Map(), options: null, detail: null };

  const $ = (sel) => document.querySelector(sel);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const label = (prefix, key) => T[prefix + key] || key;
  // every kind a candidate carries, the primary first (one candidate per parcel)
  const kindsLabel = (c) => (c.kinds && c.kinds.length ? c.kinds : [c.kind])
    .map((k) => label("k_", k)).join(T.list_sep || ", ");
  const fmt = (x, d = 0) => (x === null || x === undefined ? "" : Number(x).toFixed(d));

  function message(text, isError) {
    const m = $("#message");
    m.textContent = text;
    m.className = isError ? "error" : "ok";
  }

  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = CSRF;
    const res = await fetch(path, opts);
    if (res.status === 401) { window.location.assign("/login"); throw new Error("logged out"); }
    const data = res.headers.get("content-type", "").includes("json") ? await res.json() : null;
    if (!res.ok) {
      const err = new Error((data && data.error) || res.statusText);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // ------------------------------------------------------------ filters
  function filterParams() {
    const p = new URLSearchParams();
    for (const [id, name] of [["#filter-kind", "kind"], ["#filter-town", "town"],
      ["#filter-status", "status"], ["#filter-class", "class"],
      ["#filter-min-area", "min_area"], ["#filter-max-area", "max_area"],
      ["#filter-sort", "sort"]]) {
      const v = $(id).value;
      if (v) p.set(name, v);
    }
    return p;
  }

  function fillSelect(select, values, prefix) {
    for (const v of values) select.append(el("option", { value: v }, prefix ? label(prefix, v) : v));
  }

  async function loadOptions() {
    const o = await api("/api/options");
    state.options = o;
    fillSelect($("#filter-kind"), o.kinds, "k_");
    fillSelect($("#filter-town"), o.towns);
    fillSelect($("#filter-status"), o.statuses, "s_");
    fillSelect($("#filter-class"), o.classes);
    fillSelect($("#filter-sort"), o.sorts, "o_");
    if ($("#bulk-status")) {
      fillSelect($("#bulk-status"), ["under_review", "confirmed", "rejected", "field_check", "approved"], "s_");
      fillSelect($("#bulk-reason"), Object.keys(o.reasons), "r_");
    }
    return o;
  }

  // --------------------------------------------------------------- list
  async function loadList() {
    const p = filterParams();
    p.set("limit", PAGE);
    p.set("offset", state.offset);
    const data = await api("/api/candidates?" + p.toString());
    state.total = data.total;
    const tbody = $("#candidate-list tbody");
    tbody.replaceChildren();
    for (const c of data.items) {
      const box = el("input", { type: "checkbox", class: "pick", dataset: { id: c.candidate_id } });
      box.checked = state.selected.has(c.candidate_id);
      box.addEventListener("change", () => {
        if (box.checked) state.selected.set(c.candidate_id, c.version);
        else state.selected.delete(c.candidate_id);
      });
      const row = el("tr", { dataset: { id: c.candidate_id, status: c.status } },
        el("td", {}, box), el("td", {}, c.candidate_id), el("td", { class: "code" }, c.parcel_code),
        el("td", {}, kindsLabel(c)), el("td", {}, c.town || ""),
        el("td", { class: "status" }, label("s_", c.status)), el("td", {}, fmt(c.area_m2)),
        el("td", {}, fmt(c.priority, 2)));
      row.addEventListener("click", (ev) => { if (ev.target !== box) openDetail(c.candidate_id); });
      tbody.append(row);
    }
    const last = Math.min(state.offset + PAGE, state.total);
    $("#count").textContent = state.total
      ? `${state.offset + 1}–${last} / ${state.total}` : T.no_results;
    for (const a of document.querySelectorAll("#export-xlsx, #export-gpkg")) {
      a.href = a.href.split("?")[0] + "?" + filterParams().toString();
    }
  }

  // ---------------------------------------------------------------- map
  // colours come from maps.styles (the same table as the web maps and QGIS styles)
  const colourOf = (style, value) => {
    const cat = style.categories.find((c) => c.value === value);
    return cat ? cat.colour : style.other;
  };
  let map = null, candidateLayer = null, highlight = null;

  function initMap(bounds) {
    map = L.map("map", { preferCanvas: false, zoomControl: true });
    map.attributionControl.setPrefix(false);
    const tileOpts = (layer, style) => ({
      vectorTileLayerStyles: { [layer]: style }, maxNativeZoom: 18, interactive: false,
      rendererFactory: L.svg.tile });
    L.vectorGrid.protobuf("/tiles/parcels/{z}/{x}/{y}.mvt",
      tileOpts("parcels", { weight: 0.6, color: "#555", fill: true, fillColor: "#f5f0e1", fillOpacity: 0.6 })
    ).addTo(map);
    L.vectorGrid.protobuf("/tiles/footprints/{z}/{x}/{y}.mvt",
      tileOpts("footprints", { weight: 0.3, color: "#333", fill: true,
        fillColor: state.options.styles.footprints.colours[0], fillOpacity: 0.7 })
    ).addTo(map);
    candidateLayer = L.geoJSON(null, {
      style: (f) => ({ color: colourOf(state.options.styles.land_status, f.properties.status),
        weight: 2, fillOpacity: 0.35 }),
      onEachFeature: (f, layer) => layer.on("click", () => openDetail(f.properties.candidate_id)),
    }).addTo(map);
    const legend = L.control({ position: "bottomleft" });
    legend.onAdd = () => {
      const box = el("div", { class: "legend", id: "legend" });
      for (const cat of state.options.styles.land_status.categories) {
        const swatch = el("span", { class: "swatch" });
        swatch.style.background = cat.colour;  // CSSOM, allowed by the CSP
        box.append(el("div", {}, swatch, label("s_", cat.value)));
      }
      return box;
    };
    legend.addTo(map);
    if (bounds) map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]]);
    else map.setView([31.2, 120.6], 12);
    map.on("moveend", loadMapCandidates);
  }

  async function loadMapCandidates() {
    if (!map) return;
    const b = map.getBounds();
    const p = filterParams();
    p.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(","));
    const data = await api("/api/candidates.geojson?" + p.toString());
    candidateLayer.clearLayers();
    candidateLayer.addData(data);
  }

  // ------------------------------------------------------------- detail

  // Before/after: the parcel on the images of the first and last survey that recorded one
  // (PNG chips), else drawn with those surveys' footprints (SVG).
  function snapshots(d) {
    const imaged = (d.surveys || []).filter((s) => s.has_image);
    const missing = (e) => e.target.replaceWith(el("p", { class: "muted chip-missing" }, T.image_missing));
    const figure = (src, cls, caption) => el("figure", {},
      el("img", { src, class: cls, alt: caption, onerror: missing }), el("figcaption", {}, caption));
    if (imaged.length >= 2) {
      const first = imaged[0], last = imaged[imaged.length - 1];
      return el("div", { class: "snapshots chips" },
        figure(`/api/candidates/${d.candidate_id}/chip/${first.survey_id}.png`, "chip", `${T.before} ${first.survey_date}`),
        figure(`/api/candidates/${d.candidate_id}/chip/${last.survey_id}.png`, "chip", `${T.after} ${last.survey_date}`));
    }
    return el("div", { class: "snapshots" },
      figure(`/api/candidates/${d.candidate_id}/snapshot/before.svg`, "sketch", T.before),
      figure(`/api/candidates/${d.candidate_id}/snapshot/after.svg`, "sketch", T.after));
  }
  // The evidence in words: the same lines as the sheet and `mujun candidates show`
  // (scoring.land_status.explain), never raw keys or JSON.
  function explanation(d) {
    const x = (d.explanation || {})[body.dataset.lang] || (d.explanation || {}).zh;
    if (!x) return [];
    const checks = el("table", { id: "rules", class: "kv" }, x.checks.map((c) =>
      el("tr", { class: c.passed ? "met" : "not-met", dataset: { rule: c.key } },
        el("th", {}, c.label), el("td", {}, c.text),
        el("td", {}, c.passed ? T.met : T.not_met))));
    const facts = el("table", { id: "evidence", class: "kv" }, x.facts.map((f) =>
      el("tr", { dataset: { key: f.key } }, el("th", {}, f.label), el("td", {}, f.text))));
    return [el("h3", {}, x.title), checks, el("h3", {}, T.evidence), facts];
  }
  async function openDetail(id) {
    let d;
    try { d = await api(`/api/candidates/${id}`); } catch (e) { message(e.message, true); return; }
    state.detail = d;
    const panel = $("#detail");
    panel.hidden = false;
    const ents = el("table", { id: "enterprises" },
      el("tr", {}, el("th", {}, T.e_credit_code), el("th", {}, T.e_name), el("th", {}, T.e_role),
        el("th", {}, T.e_status), el("th", {}, T.class),
        d.figures_shown ? el("th", {}, `${T.e_tax_wan}（万元）`) : null,
        d.figures_shown ? el("th", {}, T.revenue_wan) : null));
    for (const e of d.enterprises) {
      ents.append(el("tr", {}, el("td", {}, el("a", { class: "enterprise-link",
        href: `/enterprises/${encodeURIComponent(e.credit_code)}`, target: "_blank", rel: "noopener" },
        e.credit_code)), el("td", {}, e.name || ""),
        el("td", {}, label("hr_", e.right_type)), el("td", {}, e.status ? label("hs_", e.status) : ""),
        el("td", {}, e["class"] || ""),
        d.figures_shown ? el("td", { class: "tax" }, e.figures ? fmt(e.figures.tax_wan, 1) : "") : null,
        d.figures_shown ? el("td", {}, e.figures ? fmt(e.figures.revenue_wan, 1) : "") : null));
    }
    const history = el("table", { id: "history" },
      el("thead", {}, el("tr", {}, el("th", {}, T.time), el("th", {}, T.by), el("th", {}, T.action),
        el("th", {}, T.status), el("th", {}, T.reason), el("th", {}, T.comment))),
      el("tbody", {}, d.history.map((h) => el("tr", { dataset: { action: h.action } },
        el("td", {}, (h.at || "").replace("T", " ").slice(0, 19)), el("td", { class: "actor" }, h.actor),
        el("td", {}, label("a_", h.action)),
        el("td", {}, `${h.from_status ? label("s_", h.from_status) : ""} → ${h.to_status ? label("s_", h.to_status) : ""}`),
        el("td", { class: "reason" }, h.reason_code ? label("r_", h.reason_code) : ""),
        el("td", { class: "comment" }, h.comment || "")))));
    const notes = el("ul", { id: "notes" }, d.notes.map((n) => el("li", {},
      el("span", { class: "meta" }, `${(n.at || "").slice(0, 16).replace("T", " ")} ${n.author}: `),
      el("span", { class: "note-text" }, n.note),
      n.photos.map((k) => el("a", { href: `/api/photos/${k}`, target: "_blank", rel: "noopener" },
        el("img", { src: `/api/photos/${k}`, class: "thumb", alt: T.photos }))))));
    panel.replaceChildren(...[
      el("button", { type: "button", id: "detail-close", onclick: () => { panel.hidden = true; } }, T.close),
      el("h2", {}, `#${d.candidate_id} ${kindsLabel(d)}`),
      el("p", {}, el("span", { id: "detail-status", dataset: { status: d.status } }, label("s_", d.status)),
        ` · ${d.parcel_code} · ${d.town || ""} · ${fmt(d.area_m2)} m² · v${d.version}`),
      snapshots(d),
      ...explanation(d),
      el("h3", {}, T.enterprises), d.figures_shown ? null : el("p", { id: "figures-hidden", class: "muted" }, T.figures_hidden), ents,
      PERMS.decide && d.allowed.length ? decisionForm(d) : null,
      el("h3", {}, T.history), history,
      el("h3", {}, T.field_notes), notes,
      PERMS.field_note ? noteForm(d) : null].filter((c) => c !== null && c !== undefined));
    if (d.geometry && map) {
      if (highlight) highlight.remove();
      highlight = L.geoJSON(d.geometry, { style: { color: "#00f", weight: 3, fill: false } }).addTo(map);
      map.fitBounds(highlight.getBounds(), { maxZoom: 17 });
    }
  }

  function decisionForm(d) {
    const status = el("select", { id: "decision-status" }, d.allowed.map((s) => el("option", { value: s }, label("s_", s))));
    const reason = el("select", { id: "decision-reason" }, el("option", { value: "" }, ""),
      Object.keys(state.options.reasons).map((r) => el("option", { value: r }, label("r_", r))));
    const comment = el("textarea", { id: "decision-comment", maxlength: 5000, placeholder: T.comment });
    const submit = el("button", { type: "button", id: "decision-submit" }, T.submit);
    submit.addEventListener("click", async () => {
      try {
        await api(`/api/candidates/${d.candidate_id}/decision`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ status: status.value, reason: reason.value || null,
            comment: comment.value, version: d.version }) });
        message(T.saved, false);
        await Promise.all([openDetail(d.candidate_id), loadList(), loadMapCandidates()]);
      } catch (e) {
        message(e.status === 409 ? T.conflict : e.message, true);
      }
    });
    return el("fieldset", { id: "decision" }, el("legend", {}, T.decide), status,
      el("label", {}, T.reason, " ", reason), comment, submit);
  }

  function noteForm(d) {
    const text = el("textarea", { id: "note-text", maxlength: 5000 });
    const photo = el("input", { id: "note-photo", type: "file", accept: "image/jpeg,image/png,image/webp", multiple: true });
    const submit = el("button", { type: "button", id: "note-submit" }, T.submit);
    submit.addEventListener("click", async () => {
      const form = new FormData();
      form.append("note", text.value);
      for (const f of photo.files) form.append("photo", f);
      try {
        await api(`/api/candidates/${d.candidate_id}/notes`, { method: "POST", body: form });
        message(T.saved, false);
        await openDetail(d.candidate_id);
      } catch (e) { message(e.message, true); }
    });
    return el("fieldset", { id: "add-note" }, el("legend", {}, T.add_note), text, photo, submit);
  }

  async function bulkDecide() {
    const items = [...state.selected.entries()].map(([id, version]) => ({ candidate_id: id, version }));
    if (!items.length) return;
    try {
      await api("/api/decisions", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ items, status: $("#bulk-status").value,
          reason: $("#bulk-reason").value || null, comment: $("#bulk-comment").value }) });
      state.selected.clear();
      message(T.saved, false);
      await Promise.all([loadList(), loadMapCandidates()]);
    } catch (e) { message(e.status === 409 ? T.conflict : e.message, true); }
  }

  // ------------------------------------------------------------ appeals
  // Appeals (申诉): list with filters, detail with history, record, decide. Every word
  // comes from the vocabulary (T.ak_*, T.as_*, T.af_*), every step from the server's
  // table of allowed steps.
  const appeals = { options: null, current: null };

  function appealMessage(text, isError) {
    const m = $("#appeal-message");
    m.textContent = text;
    m.className = isError ? "error" : "ok";
  }

  async function openAppeals() {
    $("#appeals").hidden = false;
    if (!appeals.options) {
      const o = await api("/api/appeals/options");
      appeals.options = o;
      fillSelect($("#appeal-filter-status"), Object.keys(o.statuses), "as_");
      fillSelect($("#appeal-filter-kind"), Object.keys(o.kinds), "ak_");
      if ($("#appeal-add")) {
        fillSelect($("#appeal-kind"), Object.keys(o.kinds), "ak_");
        fillSelect($("#appeal-class"), o.classes);
        for (const [f, unit] of Object.entries(o.fields)) {
          $("#appeal-field").append(el("option", { value: f }, `${label("af_", f)}（${unit}）`));
        }
        const showKind = () => {
          const data = $("#appeal-kind").value === "data";
          for (const n of document.querySelectorAll("#appeal-add .appeal-data")) n.hidden = !data;
          document.querySelector("#appeal-add .appeal-class").hidden = data;
        };
        $("#appeal-kind").addEventListener("change", showKind);
        showKind();
        $("#appeal-add-submit").addEventListener("click", addAppeal);
      }
    }
    await loadAppeals();
  }

  async function loadAppeals() {
    const p = new URLSearchParams();
    for (const [id, name] of [["#appeal-filter-status", "status"], ["#appeal-filter-kind", "kind"],
      ["#appeal-filter-code", "credit_code"]]) {
      const v = $(id).value.trim();
      if (v) p.set(name, v);
    }
    const items = await api("/api/appeals?" + p.toString());
    const tbody = $("#appeal-list tbody");
    tbody.replaceChildren();
    if (!items.length) tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, T.appeal_none)));
    for (const a of items) {
      const row = el("tr", { dataset: { id: a.appeal_id, status: a.status } },
        el("td", {}, a.appeal_id), el("td", { class: "code" }, a.credit_code),
        el("td", {}, label("ak_", a.kind)), el("td", { class: "status" }, label("as_", a.status)),
        el("td", {}, (a.submitted_at || "").slice(0, 16).replace("T", " ")));
      row.addEventListener("click", () => openAppeal(a.appeal_id));
      tbody.append(row);
    }
  }

  async function openAppeal(id) {
    const a = await api(`/api/appeals/${id}`);
    appeals.current = a;
    const box = $("#appeal-detail");
    const rows = [
      [T.appeal_no, a.appeal_id], [T.credit_code, a.credit_code], [T.year, a.year],
      [T.appeal_kind, label("ak_", a.kind)],
      [T.appeal_status, el("span", { id: "appeal-status", dataset: { status: a.status } }, label("as_", a.status))],
      [T.appeal_claim, a.claim]];
    if (a.kind === "class") rows.push([T.appeal_class, a.requested_class]);
    else rows.push([T.appeal_field, label("af_", a.field)],
      [T.appeal_value, `${a.claimed_value} ${appeals.options.fields[a.field] || ""}`]);
    if (a.override_id) rows.push([T.appeal_override, el("span", { id: "appeal-override" }, a.override_id)]);
    rows.push([T.submitted_by, a.submitted_by]);
    const history = el("table", { id: "appeal-history" },
      el("thead", {}, el("tr", {}, el("th", {}, T.time), el("th", {}, T.appeal_status),
        el("th", {}, T.by), el("th", {}, T.appeal_reason))),
      el("tbody", {}, a.history.map((h) => el("tr", {},
        el("td", {}, h.at.slice(0, 16).replace("T", " ")), el("td", { class: "status" }, label("as_", h.status)),
        el("td", { class: "actor" }, h.by), el("td", { class: "reason" }, h.reason || "")))));
    const parts = [el("table", { class: "kv" }, rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))),
      el("h3", {}, T.appeal_history), history];
    const next = appeals.options.steps[a.status] || [];
    if (PERMS.appeal && next.length) {
      const select = el("select", { id: "appeal-next" }, next.map((s) => el("option", { value: s }, label("as_", s))));
      const reason = el("textarea", { id: "appeal-reason", maxlength: 2000 });
      const approver = a.kind === "class"
        ? el("label", {}, T.appeal_approved_by, el("input", { id: "appeal-approved-by", maxlength: 200 })) : null;
      parts.push(el("fieldset", { id: "appeal-decide" }, el("legend", {}, T.appeal_decide),
        el("label", {}, T.appeal_new_status, select), el("label", {}, T.appeal_reason, reason), approver,
        el("button", { id: "appeal-decide-submit", type: "button", onclick: decideAppeal }, T.submit)));
    }
    box.replaceChildren(...parts);
    box.hidden = false;
  }

  async function addAppeal() {
    const kind = $("#appeal-kind").value;
    const payload = { credit_code: $("#appeal-code").value.trim(), kind, claim: $("#appeal-claim").value };
    if (kind === "class") payload.class = $("#appeal-class").value;
    else { payload.field = $("#appeal-field").value; payload.value = $("#appeal-value").value; }
    try {
      const a = await api("/api/appeals", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload) });
      appealMessage(T.saved, false);
      await loadAppeals();
      await openAppeal(a.appeal_id);
    } catch (e) { appealMessage(e.message, true); }
  }

  async function decideAppeal() {
    const a = appeals.current;
    try {
      await api(`/api/appeals/${a.appeal_id}/decision`, { method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ status: $("#appeal-next").value, reason: $("#appeal-reason").value,
          approved_by: $("#appeal-approved-by") ? $("#appeal-approved-by").value : null }) });
      appealMessage(T.saved, false);
      await loadAppeals();
      await openAppeal(a.appeal_id);
    } catch (e) { appealMessage(e.message, true); }
  }

  function initAppeals() {
    if (!$("#appeals-open")) return;
    $("#appeals-open").addEventListener("click", () => openAppeals().catch((e) => appealMessage(e.message, true)));
    $("#appeals-close").addEventListener("click", () => { $("#appeals").hidden = true; });
    $("#appeal-filters").addEventListener("submit", (ev) => {
      ev.preventDefault();
      loadAppeals().catch((e) => appealMessage(e.message, true));
    });
  }

  // --------------------------------------------------------------- start
  async function start() {
    const o = await loadOptions();
    $("#filters").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      state.offset = 0;
      await Promise.all([loadList(), loadMapCandidates()]);
    });
    $("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); loadList(); });
    $("#next").addEventListener("click", () => { if (state.offset + PAGE < state.total) { state.offset += PAGE; loadList(); } });
    if ($("#bulk-submit")) $("#bulk-submit").addEventListener("click", bulkDecide);
    initAppeals();
    await loadList();
    initMap(o.bounds);
    await loadMapCandidates();
    body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((e) => message(e.message, true));
  });
})();
