/* smartarea dashboard: the area page. */

import { body, S, LOCALE, TZ, KINDS, el, $, fmt, showMessage, ApiError, api, post, problemText, chip, countChips, time, when, since, ago, updated, MIN_COVERAGE, percent, every, me } from "./core.js";
import { unresolvedIncidents, renderAreaIncidents } from "./incidents.js";

/** The probe's reason in words; a code without words says "another fault", never the code. */
function reasonText(device) {
  if (!device.reason) return null;
  return S["reason_" + device.reason] || S.reason_other;
}
/** What the agent said in its own (technical, often English) words: for technicians only. */
function technicalDetail(device) {
  const known = device.reason && S["reason_" + device.reason];
  const parts = [known ? null : device.reason, device.detail].filter(Boolean);
  return parts.length ? S.technical_detail + ": " + parts.join(": ") : null;
}
function metricsText(device) {
  const m = device.metrics || {};
  const parts = [];
  const rtt = m.rtt_p95_ms ?? m.rtt_ms ?? m.rtt_avg_ms;
  if (typeof rtt === "number") parts.push(S.latency + ": " + rtt.toFixed(rtt < 10 ? 1 : 0) + " ms");
  const loss = m.loss_pct ?? m.loss_percent;
  if (typeof loss === "number") parts.push(S.loss + ": " + loss.toFixed(0) + "%");
  return parts.join(" · ");
}

async function areaPage() {
  const areaId = body.dataset.area;
  const base = "/areas/" + encodeURIComponent(areaId);
  let detail;
  try { detail = await api(base); }
  catch (error) {
    showMessage(problemText(error));
    $("area-name").textContent = S.area_title;
    for (const id of ["kinds", "updated"]) $(id).replaceChildren();
    for (const node of document.querySelectorAll("main section, main > p.muted")) node.hidden = true;
    return;
  }
  document.title = detail.name + " · " + S.app_name;
  $("area-name").textContent = detail.name;
  $("crumbs").replaceChildren(detail.province + " › " + detail.commune);
  const catalog = new Map(detail.devices.map((d) => [d.id, d]));
  const perDevice = new Map();

  const sections = new Map();
  for (const kind of KINDS) {
    const counts = el("span", { class: "counts" });
    const list = el("ul", { class: "devices" + (kind === "camera" ? " devices-cam" : "") });
    const section = el("section", { class: "card" + (kind === "camera" ? " wide" : ""), "data-kind": kind, "aria-labelledby": "k-" + kind },
      el("h2", { id: "k-" + kind }, S["kind_" + kind]), counts, list);
    sections.set(kind, { section, counts, list });
    $("kinds").append(section);
  }

  const ORDER = { down: 0, degraded: 1, unknown: 2, up: 3 };
  function renderStatus(status, incidents) {
    $("area-counts").replaceChildren(...countChips(status.counts));
    // Since when each device is failing: its unresolved incident's opening time.
    const failingSince = new Map();
    for (const i of incidents || []) {
      for (const id of i.device_id ? [i.device_id] : []) {
        if (!failingSince.has(id) || failingSince.get(id) > i.opened_at) failingSince.set(id, i.opened_at);
      }
    }
    // Broken devices first, so a leader sees what is wrong without scrolling past 18 cameras.
    const kindsInOrder = [...sections.keys()].sort((a, b) => {
      const worst = (k) => Math.min(4, ...status.devices.filter((d) => d.kind === k).map((d) => ORDER[d.state]));
      return worst(a) - worst(b) || KINDS.indexOf(a) - KINDS.indexOf(b);
    });
    for (const kind of kindsInOrder) $("kinds").append(sections.get(kind).section);
    for (const [kind, part] of sections) {
      const devices = status.devices.filter((d) => d.kind === kind)
        .sort((a, b) => ORDER[a.state] - ORDER[b.state] || (a.name || a.device_id).localeCompare(b.name || b.device_id, "vi", { numeric: true }));
      const sum = { up: 0, degraded: 0, down: 0, unknown: 0 };
      for (const d of devices) sum[d.state] += 1;
      part.counts.replaceChildren(...(devices.length ? countChips(sum) : []));
      part.list.replaceChildren(...(devices.length ? devices.map((d) => {
        const info = catalog.get(d.device_id) || {};
        // Where it is, said once: a road already called "main" needs no "main road" after it.
        const road = info.road || (info.main_road ? S.main_road : null);
        const where = [info.location, road].filter(Boolean).join(", ");
        const reason = reasonText(d);
        const technical = mayCommand && d.state !== "up" ? technicalDetail(d) : null;
        const metrics = metricsText(d);
        const figure = perDevice.get(d.device_id);
        const start = failingSince.get(d.device_id);
        const failing = d.state === "down" || d.state === "degraded";
        return el("li", { class: "device" + (failing ? " failing" : ""), "data-device": d.device_id },
          el("div", { class: "head" },
            el("span", { class: "name" }, d.name || info.name || d.device_id),
            chip(d.state, S["state_" + d.state])),
          failing && start ? el("strong", { class: "since" },
            fmt(d.state === "down" ? "down_since" : "degraded_since", when(start)) + " · " + fmt("for_duration", since(start))) : null,
          where ? el("span", { class: "muted" }, where) : null,
          reason ? el("span", { class: "reason" }, reason) : null,
          technical ? el("span", { class: "muted" }, technical) : null,
          metrics ? el("span", {}, metrics) : null,
          el("span", { class: "muted" }, d.observed_at ? S.last_check + ": " + time(d.observed_at) + " (" + ago(d.observed_at) + ")" : S.never_checked),
          figure ? el("span", { class: "muted" }, S.availability_title + ": " + percent(figure.availability, figure.coverage)) : null);
      }) : [el("li", { class: "muted" }, S.none_of_kind)]));
    }
    $("agents").replaceChildren(...status.agents.map((a) => el("li", {},
      el("strong", {}, a.agent_id), " — ",
      a.presence === "offline" ? chip("down", S.agent_offline) : a.stale ? chip("unknown", S.agent_stale) : chip("up", S.agent_online),
      " ", el("span", { class: "muted" }, S.last_check + ": " + time(a.last_report_at) + " (" + ago(a.last_report_at) + ")"),
      mayCommand ? probeControl(a.agent_id) : null)));
  }

  // "Check now": the agent probes at once; the live refresh shows its report within seconds.
  // Built once per agent, so a refresh keeps what the technician was told.
  const who = me() || {};
  const mayCommand = who.role === "admin" || who.role === "technician";
  const probeControls = new Map();
  function probeControl(agentId) {
    if (probeControls.has(agentId)) return probeControls.get(agentId);
    const note = el("span", { class: "muted", role: "status" });
    const button = el("button", { type: "button", "data-action": "probe", "data-agent": agentId }, S.probe_now);
    button.addEventListener("click", async () => {
      button.disabled = true;
      note.textContent = "";
      try {
        await post(base + "/agents/" + encodeURIComponent(agentId) + "/probe", {});
        note.textContent = S.probe_sent;
        setTimeout(() => loadStatus().catch(() => null), 3000);
      } catch (error) {
        // 409 (agent offline) and 429 (asked a moment ago: wait N s) carry the API's own words.
        note.textContent = error instanceof ApiError && error.status === 503 ? S.probe_unavailable : problemText(error);
      } finally { button.disabled = false; }
    });
    const control = el("span", { class: "probe" }, " ", button, " ", note);
    probeControls.set(agentId, control);
    return control;
  }

  async function loadStatus() {
    const [status, incidents] = await Promise.all([
      api(base + "/status"), unresolvedIncidents(areaId).catch(() => null)]);
    renderStatus(status, incidents);
    if (incidents) renderAreaIncidents(incidents, detail);
  }

  async function loadAvailability() {
    const to = new Date();
    const from = new Date(to.getTime() - 30 * 86400 * 1000);
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
    const data = await api(base + "/availability?" + query.toString());
    for (const d of data.devices) perDevice.set(d.device_id, d.health);
    const h = data.area.health;
    // Plain words first; the technical term in a hint below (auditors know it by that name).
    const term = (label, hint) => el("dt", {}, label, el("span", { class: "hint" }, hint));
    const figures = el("dl", { class: "figures" },
      el("div", {}, term(S.availability, S.availability_hint), el("dd", {}, percent(h.availability, h.coverage))),
      el("div", {}, term(S.coverage, S.coverage_hint), el("dd", {}, percent(h.coverage))),
      el("div", {}, el("dt", {}, S.outages), el("dd", {}, String(h.outages))));
    const rows = Object.entries(data.kinds).map(([kind, agg]) => el("tr", {},
      el("th", { scope: "row" }, S["kind_" + kind] || kind),
      el("td", {}, percent(agg.health.availability, agg.health.coverage)), el("td", {}, percent(agg.health.coverage))));
    const table = el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, ""), el("th", { scope: "col" }, S.availability), el("th", { scope: "col" }, S.coverage))), el("tbody", {}, rows));
    const note = h.coverage !== null && h.coverage < MIN_COVERAGE
      ? el("p", { class: "muted" }, fmt("coverage_note", percent(h.coverage))) : null;
    $("availability").replaceChildren(figures, note || "", chart(data.area.series), table);
  }

  function chart(series) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    const n = Math.max(series.length, 1);
    svg.setAttribute("viewBox", "0 0 " + n * 10 + " 100");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", S.daily_chart);
    series.forEach((bucket, i) => {
      const thin = bucket.figures.coverage !== null && bucket.figures.coverage < MIN_COVERAGE;
      const a = thin ? null : bucket.figures.availability;
      const rect = document.createElementNS(NS, "rect");
      const height = a === null ? 8 : Math.max(4, a);
      rect.setAttribute("x", String(i * 10 + 1));
      rect.setAttribute("width", "8");
      rect.setAttribute("y", String(100 - height));
      rect.setAttribute("height", String(height));
      rect.setAttribute("class", a === null ? "bar-none" : a >= 99 ? "bar-ok" : "bar-bad");
      const title = document.createElementNS(NS, "title");
      title.textContent = new Date(bucket.start).toLocaleDateString(LOCALE, { timeZone: TZ }) + ": " + percent(a, bucket.figures.coverage);
      rect.append(title);
      svg.append(rect);
    });
    // A date axis readable without hover: first, middle and last day under the bars.
    const day = (b) => when(b.start).split(" ")[1].slice(0, 5); // "03/12": day/month in Vietnam
    const axis = series.length ? el("div", { class: "axis-labels", "aria-hidden": "true" },
      el("span", {}, day(series[0])),
      series.length > 2 ? el("span", {}, day(series[Math.floor(series.length / 2)])) : null,
      series.length > 1 ? el("span", {}, day(series[series.length - 1])) : null) : null;
    return el("figure", { class: "chart-wrap" }, el("figcaption", { class: "muted" }, S.daily_chart), svg, axis);
  }

  async function loadLinkCharts() {
    const status = await api(base + "/status");
    const link = status.devices.find((d) => d.kind === "uplink" && d.observed_at);
    if (!link) { $("link-charts").replaceChildren(el("p", { class: "muted" }, S.no_link_figures)); return; }
    const keys = Object.keys(link.metrics);
    const rtt = keys.find((k) => k.endsWith("_rtt_p50_ms")) || keys.find((k) => k.endsWith("rtt_ms"));
    const loss = keys.find((k) => k.endsWith("loss_pct"));
    const to = new Date();
    const from = new Date(to.getTime() - 86400 * 1000);
    const figures = [];
    for (const [metric, caption, unit] of [[rtt, S.latency_chart, " ms"], [loss, S.loss_chart, "%"]]) {
      if (!metric) continue;
      const query = new URLSearchParams({ device: link.device_id, metric, from: from.toISOString(), to: to.toISOString(), step_s: "900" });
      const data = await api(base + "/series?" + query.toString());
      figures.push(lineChart(data.points, caption, unit, metric, from, to));
    }
    $("link-charts").replaceChildren(...(figures.length ? figures : [el("p", { class: "muted" }, S.no_link_figures)]));
  }

  function lineChart(points, caption, unit, metric, from, to) {
    // Drawn here as SVG (no library): x is time over the 24 hours, y the mean per bucket.
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    const span = to.getTime() - from.getTime();
    const values = points.map((p) => p.mean).filter((v) => v !== null);
    const peak = Math.max(1, ...points.map((p) => p.max || 0));
    svg.setAttribute("viewBox", "0 0 1000 100");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", caption);
    const line = document.createElementNS(NS, "polyline");
    line.setAttribute("class", "line");
    line.setAttribute("points", points.filter((p) => p.mean !== null).map((p) => {
      const x = ((new Date(p.start).getTime() - from.getTime()) / span) * 1000;
      return x.toFixed(1) + "," + (100 - (p.mean / peak) * 95).toFixed(1);
    }).join(" "));
    const base = document.createElementNS(NS, "line");
    base.setAttribute("class", "axis");
    for (const [k, v] of [["x1", "0"], ["x2", "1000"], ["y1", "99.5"], ["y2", "99.5"]]) base.setAttribute(k, v);
    svg.append(base, line);
    for (const p of points) {  // a mark per bucket, so a single one is visible too
      if (p.mean === null) continue;
      const mark = document.createElementNS(NS, "rect");
      const x = ((new Date(p.start).getTime() - from.getTime()) / span) * 1000;
      const y = 100 - (p.mean / peak) * 95;
      mark.setAttribute("class", "mark");
      mark.setAttribute("x", (x - 3).toFixed(1));
      mark.setAttribute("y", (y - 3).toFixed(1));
      mark.setAttribute("width", "6");
      mark.setAttribute("height", "6");
      const title = document.createElementNS(NS, "title");
      title.textContent = time(p.start) + ": " + p.mean.toLocaleString(LOCALE, { maximumFractionDigits: 1 }) + unit;
      mark.append(title);
      svg.append(mark);
    }
    const last = values.length ? values[values.length - 1] : null;
    const summary = last === null ? S.no_link_figures
      : caption + ": " + last.toLocaleString(LOCALE, { maximumFractionDigits: 1 }) + unit
        + " (" + S.chart_peak + " " + peak.toLocaleString(LOCALE, { maximumFractionDigits: 1 }) + unit + ")";
    return el("figure", { class: "chart-wrap", "data-metric": metric },
      el("figcaption", { class: "muted" }, summary), svg);
  }

  try { await loadAvailability(); }
  catch (error) { $("availability").replaceChildren(el("p", { class: "muted" }, S.server_error)); }
  try { await loadLinkCharts(); }
  catch (error) { $("link-charts").replaceChildren(el("p", { class: "muted" }, S.server_error)); }
  await loadStatus();
  updated();
  every(loadStatus);
  setInterval(() => loadAvailability().catch(() => null), 5 * 60 * 1000);
  setInterval(() => loadLinkCharts().catch(() => null), 5 * 60 * 1000);
}

export const run = areaPage;
