// The supply page: plots per step, the plots and areas in the user's scope; planners edit a
// plot's supply information and move it on. No inline scripts (the Content Security Policy
// forbids them); every text from the server goes in with textContent, never as HTML.
"use strict";

(function () {
  const body = document.body;
  const T = JSON.parse(body.dataset.i18n);
  const PERMS = JSON.parse(body.dataset.perms);
  const CSRF = body.dataset.csrf;
  const state = { plot: null };
  const $ = (sel) => document.querySelector(sel);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const fmt = (x, d = 2) => (x === null || x === undefined ? "" : Number(x).toFixed(d));

  function message(text, isError) {
    const m = $("#supply-message");
    m.textContent = text;
    m.className = isError ? "error" : "ok";
  }

  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (opts.method && opts.method !== "GET") {
      opts.headers["X-CSRF-Token"] = CSRF;
      opts.headers["Content-Type"] = "application/json";
    }
    const res = await fetch(path, opts);
    if (res.status === 401) { window.location.assign("/login"); throw new Error("logged out"); }
    const data = (res.headers.get("content-type") || "").includes("json") ? await res.json() : null;
    if (!res.ok) throw new Error((data && data.error) || res.statusText);
    return data;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  async function load() {
    const data = await api("/api/supply");
    $("#supply-total").textContent = `（${data.plots.length}，${fmt(data.total_mu)} 亩）`;
    fill($("#supply-steps tbody"), data.steps.filter((s) => s.n > 0).map((s) =>
      el("tr", {}, el("td", {}, s.zh), el("td", {}, s.n))));
    const plots = data.plots.map((p) => el("tr", {
      class: "plot-row", "data-id": p.plot_id, tabindex: 0, onclick: () => open(p.plot_id),
    }, el("td", {}, p.code), el("td", {}, p.status_zh), el("td", {}, p.status_date),
    el("td", {}, p.town || ""), el("td", {}, fmt(p.area_mu))));
    fill($("#plot-list tbody"), plots.length ? plots
      : [el("tr", {}, el("td", { colspan: 5 }, T.supply_none))]);
    fill($("#area-list tbody"), data.areas.map((a) => el("tr", { class: "area-row" },
      el("td", {}, a.name), el("td", {}, a.method_zh), el("td", {}, a.planned),
      el("td", {}, fmt(a.target_mu)), el("td", {}, `${fmt(a.reclaimed_mu)}（${Math.round(a.done_share * 100)}%）`),
      el("td", {}, a.status_zh))));
  }

  function show(p) {
    state.plot = p;
    $("#plot-detail").hidden = false;
    $("#plot-title").textContent = `${p.code}（${fmt(p.area_mu)} 亩）`;
    $("#plot-status").textContent = `${p.status_zh} · ${p.status_date} · ${p.origin_zh}`;
    fill($("#plot-indicators tbody"), p.indicators.map((i) =>
      el("tr", {}, el("td", {}, i.zh), el("td", {}, i.value === null || i.value === undefined ? "—" : i.value))));
    $("#plot-info").replaceChildren(...p.fields.map((f) => el("label", {}, f.zh,
      el("input", { name: f.key, value: f.value, maxlength: 2000, readonly: !PERMS.supply }))));
    fill($("#plot-history tbody"), p.history.map((h) => el("tr", {},
      el("td", {}, h.on_date), el("td", {}, h.from_zh ? `${h.from_zh} → ${h.to_zh}` : h.to_zh),
      el("td", {}, h.document || ""), el("td", {}, h.actor))));
    const to = $("#step-to");
    if (to) {
      to.replaceChildren(...p.next.map((n) => el("option", { value: n.code }, n.zh)));
      $("#plot-step").hidden = p.next.length === 0;
      $("#step-date").value = new Date().toISOString().slice(0, 10);
    }
  }

  async function open(id) {
    try { show(await api(`/api/supply/plots/${id}`)); message(""); } catch (e) { message(e.message, true); }
  }

  async function saveInfo() {
    const values = {};
    for (const input of $("#plot-info").querySelectorAll("input")) {
      const before = state.plot.fields.find((f) => f.key === input.name);
      if (!before || String(before.value || "") !== input.value) values[input.name] = input.value;
    }
    if (!Object.keys(values).length) return;
    try {
      show(await api(`/api/supply/plots/${state.plot.plot_id}/info`, {
        method: "POST", body: JSON.stringify({ values, version: state.plot.version }),
      }));
      message(T.supply_saved);
    } catch (e) { message(e.message, true); }
  }

  async function advance() {
    try {
      show(await api(`/api/supply/plots/${state.plot.plot_id}/step`, {
        method: "POST",
        body: JSON.stringify({
          to: $("#step-to").value, date: $("#step-date").value,
          document: $("#step-document").value || null, version: state.plot.version,
        }),
      }));
      message(T.supply_advanced);
      await load();
    } catch (e) { message(e.message, true); }
  }

  if ($("#info-save")) $("#info-save").addEventListener("click", saveInfo);
  if ($("#step-submit")) $("#step-submit").addEventListener("click", advance);
  load().then(() => { body.dataset.ready = "1"; }).catch((e) => message(e.message, true));
})();
