/* smartarea dashboard: the incidents page. */

import { S, el, $, fmt, showMessage, api, post, problemText, chip, when, since, updated, every, me } from "./core.js";

const INCIDENT_CHIP = { open: "down", acknowledged: "degraded", resolved: "up" };
function incidentChip(state) { return chip(INCIDENT_CHIP[state] || "unknown", S["inc_" + state] || state); }
/** Area names and, per area, device names: read once per area from the catalog. */
function namer() {
  const areas = new Map();
  return {
    async load(areaIds) {
      await Promise.all([...new Set(areaIds)].filter((id) => !areas.has(id)).map(async (id) => {
        try { areas.set(id, await api("/areas/" + encodeURIComponent(id))); }
        catch (error) { areas.set(id, null); }
      }));
    },
    area(id) { const a = areas.get(id); return a ? a.name + " (" + a.commune + ")" : id; },
    device(areaId, deviceId) {
      const a = areas.get(areaId);
      const d = a && a.devices.find((x) => x.id === deviceId);
      return d && d.name ? d.name : deviceId;
    },
  };
}
function incidentWhat(incident, names) {
  const what = S["inc_" + incident.kind] || incident.kind;
  return incident.device_id ? what + ": " + names.device(incident.area_id, incident.device_id) : what;
}
function incidentReason(incident) {
  return incident.reason ? (S["reason_" + incident.reason] || S.reason_other) : null;
}
/** "Từ 14:02 03/12/2026 · đã 12 phút" (still going) or "… · kéo dài 12 phút" (resolved). */
function incidentWhen(incident) {
  const start = fmt("since_start", when(incident.opened_at));
  if (incident.resolved_at) {
    return start + " · " + fmt("lasted", since(incident.opened_at, incident.resolved_at))
      + " · " + fmt("resolved_at", when(incident.resolved_at));
  }
  return start + " · " + fmt("for_duration", since(incident.opened_at));
}
function incidentWho(incident) {
  if (incident.state === "acknowledged" && incident.acknowledged_by) {
    return fmt("taken_by", incident.acknowledged_by) + " " + when(incident.acknowledged_at);
  }
  if (incident.state === "resolved") return incident.resolved_by ? fmt("resolved_by", incident.resolved_by) : S.resolved_by_data;
  return null;
}

async function incidentsPage() {
  const who = me() || {};
  const mayHandle = who.role === "admin" || who.role === "technician";
  const names = namer();
  const board = $("board");
  const select = $("state");

  function timeline(detail) {
    return el("ol", { class: "timeline" }, detail.events.map((e) => el("li", {},
      el("span", { class: "muted" }, when(e.at) + " · "), el("strong", {}, e.actor === "alerts" ? S.actor_system : e.actor), " ",
      S["ev_" + e.kind] || e.kind, e.note ? el("q", {}, e.note) : null)));
  }

  function handleForm(incident, box) {
    const id = "note-" + incident.id;
    const note = el("textarea", { id: id, rows: "2", maxlength: "2000" });
    const status = el("p", { class: "muted", role: "status" });
    const ack = el("button", { type: "button", class: "primary", "data-action": "acknowledge" }, S.acknowledge);
    const add = el("button", { type: "button", "data-action": "note" }, S.add_note);
    const fix = el("button", { type: "button", "data-action": "resolve" }, S.resolve);
    async function act(kind) {
      const text = note.value.trim();
      status.className = "muted";
      if (kind === "notes" && !text) { status.textContent = S.note_needed; note.focus(); return; }
      ack.disabled = add.disabled = fix.disabled = true;
      try {
        const detail = await post("/areas/" + encodeURIComponent(incident.area_id) + "/incidents/" + incident.id + "/" + kind,
          { note: text || null });
        note.value = "";
        Object.assign(incident, detail);
        renderDetail(incident, detail, box);
        const summary = box.closest("details").querySelector("summary");
        summary.querySelector(".chip").replaceWith(incidentChip(detail.state));
        summary.querySelector(".when").textContent = summaryLine(incident);
        box.append(el("p", { class: "muted", role: "status" }, S.saved));
      } catch (error) { status.className = "alert"; status.textContent = problemText(error); }
      finally { ack.disabled = add.disabled = fix.disabled = false; }
    }
    ack.addEventListener("click", () => act("acknowledge"));
    add.addEventListener("click", () => act("notes"));
    fix.addEventListener("click", () => act("resolve"));
    return el("div", { class: "handle" }, el("label", { for: id }, S.note_label), note,
      el("div", { class: "buttons" }, incident.state === "open" ? ack : null, add, fix),
      el("p", { class: "muted hint" }, S.resolve_hint), status);
  }

  function renderDetail(incident, detail, box) {
    box.replaceChildren(
      el("h3", {}, S.timeline), timeline(detail),
      mayHandle && detail.state !== "resolved" ? handleForm(incident, box) : null);
  }

  function summaryLine(incident) {
    return [incidentWhen(incident), incidentReason(incident), incidentWho(incident),
      incident.suppressed ? S.suppressed : null].filter(Boolean).join(" · ");
  }

  function item(incident) {
    const box = el("div", { class: "detail" }, el("p", { class: "muted" }, S.loading));
    const details = el("details", { "data-incident": incident.id, "data-state": incident.state },
      el("summary", {}, incidentChip(incident.state), " ", el("strong", {}, names.area(incident.area_id)), " · ",
        incidentWhat(incident, names),
        el("span", { class: "muted block when" }, summaryLine(incident))),
      box);
    details.addEventListener("toggle", async () => {
      if (!details.open) return;
      try {
        const detail = await api("/areas/" + encodeURIComponent(incident.area_id) + "/incidents/" + incident.id);
        renderDetail(incident, detail, box);
      } catch (error) { box.replaceChildren(el("p", { class: "alert" }, problemText(error))); }
    });
    return el("li", {}, details);
  }

  async function load(force) {
    if (!force && board.querySelector("details[open]")) return; // do not pull the form away
    const query = new URLSearchParams({ limit: "200" });
    if (select.value) query.set("state", select.value);
    const incidents = await api("/incidents?" + query.toString());
    await names.load(incidents.map((i) => i.area_id));
    board.replaceChildren(...(incidents.length ? incidents.map(item) : [el("li", { class: "muted" }, S.no_incidents)]));
    board.setAttribute("aria-busy", "false");
  }
  select.addEventListener("change", () => load(true).then(updated).catch((e) => showMessage(problemText(e))));
  await load(true);
  updated();
  every(() => load(false));
}

export async function unresolvedIncidents(areaId) {
  return api("/incidents?" + new URLSearchParams({ area_id: areaId, state: "unresolved", limit: "50" }).toString());
}
export function renderAreaIncidents(incidents, area) {
  const names = {
    area: () => area.name,
    device: (_, id) => { const d = area.devices.find((x) => x.id === id); return d && d.name ? d.name : id; },
  };
  $("incidents").replaceChildren(...(incidents.length ? incidents.map((i) => el("li", { "data-incident": i.id },
    incidentChip(i.state), " ", incidentWhat(i, names), " · ",
    el("span", { class: "muted" }, [incidentWhen(i), incidentReason(i), incidentWho(i)].filter(Boolean).join(" · "))))
    : [el("li", { class: "muted" }, S.no_incidents)]));
}

export const run = incidentsPage;
