/* smartarea dashboard: the certification page. */

import { body, S, LANG, TZ, TOKEN, el, $, fmt, showMessage, ApiError, api, post, problemText, chip, when, num } from "./core.js";

const VERDICT_CHIP = { pass: "up", fail: "down", insufficient_data: "unknown" };
function verdictChip(verdict) { return chip(VERDICT_CHIP[verdict] || "unknown", S["v_" + verdict] || verdict); }
function vnDate(date) {  // YYYY-MM-DD of a Date in Vietnam
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

async function download(path, filename) {
  const response = await fetch(path, { headers: { "Authorization": "Bearer " + sessionStorage.getItem(TOKEN), "Accept-Language": LANG } });
  if (!response.ok) throw new ApiError(response.status);
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: filename });
  document.body.append(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function certificationPage() {
  const areaId = body.dataset.area;
  const base = "/areas/" + encodeURIComponent(areaId);
  let detail;
  try { detail = await api(base); }
  catch (error) { showMessage(problemText(error)); $("cert-form").hidden = true; return; }
  $("area-name").textContent = detail.name;
  $("crumbs").replaceChildren(el("a", { href: "/ui/areas/" + encodeURIComponent(areaId) }, detail.province + " › " + detail.commune + " › " + detail.name));
  const sets = await api("/criteria-sets");
  const latest = new Map();
  for (const set of sets) if (!latest.has(set.set_id) || latest.get(set.set_id).version < set.version) latest.set(set.set_id, set);
  if (!latest.size) { showMessage(S.no_sets); $("cert-form").hidden = true; return; }
  $("set").replaceChildren(...[...latest.values()].map((set) =>
    el("option", { value: set.set_id }, (LANG === "vi" ? set.title_vi : set.title_en) + " (v" + set.version + ")")));
  const today = new Date();
  $("to").value = vnDate(today);
  $("from").value = vnDate(new Date(today.getTime() - 30 * 86400 * 1000));
  let window = null;

  function query() {
    // Whole days in Vietnam: from 00:00 of the first day to 24:00 of the last (UTC+7).
    const end = new Date($("to").value + "T00:00:00+07:00");
    end.setUTCDate(end.getUTCDate() + 1);
    const to = new Date(Math.min(end.getTime(), Date.now()));
    return new URLSearchParams({ set: $("set").value, from: $("from").value + "T00:00:00+07:00", to: to.toISOString() });
  }

  function figure(x, unit) {
    const word = unit ? S["unit_" + unit] || unit : "";
    const n = typeof x === "number" ? num(x, 1) : String(x);
    return word === "%" ? n + " %" : word ? n + " " + word : n;
  }
  /** The evidence in words, one line per device, never raw JSON keys. */
  function evidenceList(items) {
    return el("ul", { class: "evidence-list" }, items.map((item) => el("li", {},
      Object.entries(item).filter(([, v]) => v !== null && v !== undefined).map(([k, v], i) => {
        const label = S["evk_" + k];
        let shown = v;
        if (k === "verdict") shown = S["v_" + v] || v;
        else if (k.endsWith("_pct") && typeof v === "number") shown = num(v, 1) + " %";
        else if (typeof v === "number") shown = num(v, 1);
        else if (typeof v === "object") shown = JSON.stringify(v);
        return (i ? "; " : "") + (label || k.replace(/_/g, " ")) + ": " + shown;
      }))));
  }
  /** Criterion texts as people read them: figure and document code names in words, and
   *  decimal commas in Vietnamese. */
  function plainText(t) {
    let out = String(t || "");
    for (const code of ["households_fibre", "households", "adults_smartphone", "adults_vneid", "adults", "digital_team_decision"]) {
      out = out.replace(new RegExp("'?\\b" + code + "\\b'?", "g"), S["code_" + code]);
    }
    return LANG === "vi" ? out.replace(/(\d)\.(\d)/g, "$1,$2") : out;
  }
  function row(c) {
    const text = (t) => plainText(t ? t[LANG] || t.vi : "");
    const value = c.value === null ? S.no_data : figure(c.value, c.unit) + (c.threshold === null ? "" : " / " + figure(c.threshold, c.unit));
    return el("tr", { "data-criterion": c.id },
      el("td", {}, el("strong", {}, text(c.title)), el("span", { class: "muted block" }, S["k_" + c.kind] || c.kind),
        el("details", {}, el("summary", {}, S.evidence),
          el("p", {}, text(c.explanation)),
          el("p", { class: "muted" }, S.source + ": " + c.source.document + " (" + c.source.date + ")" + (c.source.note ? " — " + c.source.note : "")),
          c.evidence.length ? evidenceList(c.evidence) : null)),
      el("td", {}, verdictChip(c.verdict)),
      el("td", {}, value));
  }

  $("cert-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    window = query();
    try {
      const evaluation = await api(base + "/criteria?" + window.toString());
      $("overall").replaceChildren(verdictChip(evaluation.overall));
      $("criteria").tBodies[0].replaceChildren(...evaluation.criteria.map(row));
      $("report-out").replaceChildren();
      $("result").hidden = false;
      showMessage(null);
    } catch (error) { showMessage(problemText(error)); }
  });

  $("issue").addEventListener("click", async () => {
    try {
      const issued = await post(base + "/reports?" + window.toString(), {});
      const name = "bao-cao-" + areaId + "-" + issued.id;
      const pdf = el("button", { type: "button" }, S.download_pdf);
      const csv = el("button", { type: "button" }, S.download_csv);
      const verify = el("button", { type: "button", id: "verify" }, S.verify);
      const outcome = el("span", { id: "verify-out" });
      pdf.addEventListener("click", () => download(base + "/reports/" + issued.id + "?format=pdf", name + ".pdf").catch((e) => showMessage(problemText(e))));
      csv.addEventListener("click", () => download(base + "/reports/" + issued.id + "?format=csv", name + ".csv").catch((e) => showMessage(problemText(e))));
      verify.addEventListener("click", async () => {
        try {
          const check = await api(base + "/reports/" + issued.id + "/verify");
          if (check.matches) { outcome.replaceChildren(chip("up", S.verify_ok)); return; }
          // What changed, when and by whom: one line per criterion, then its recorded causes.
          const verdict = (v) => (v ? S["v_" + v] || v : "—");
          outcome.replaceChildren(chip("down", S.verify_changed), el("ul", { class: "changes" },
            (check.changes || []).map((ch) => el("li", {},
              el("strong", {}, plainText(ch.title[LANG] || ch.title.vi)), ": ",
              verdict(ch.verdict_before) + " → " + verdict(ch.verdict_after),
              el("ul", {}, ch.causes.map((cause) => el("li", {},
                cause.what === "data" ? S.verify_late_data : cause.detail,
                cause.by ? " — " + fmt("verify_by", cause.by) : "",
                cause.at ? ", " + when(cause.at) : "")))))));
        } catch (error) { showMessage(problemText(error)); }
      });
      $("report-out").replaceChildren(
        el("span", { class: "block" }, S.report_issued + " " + issued.id + " · SHA-256 " + issued.evidence_sha256.slice(0, 16) + "…"),
        el("span", { class: "buttons" }, pdf, csv, verify), outcome);
    } catch (error) { showMessage(problemText(error)); }
  });
  $("cert-form").requestSubmit();
}

export const run = certificationPage;
