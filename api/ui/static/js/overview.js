/* smartarea dashboard: the overview page. */

import { S, STATES, el, $, fmt, fold, api, chip, countChips, when, since, updated, every } from "./core.js";

async function overviewPage() {
  const tree = $("tree");
  const [provinces, areas] = await Promise.all([api("/provinces"), api("/areas")]);
  const byCommune = new Map();
  for (const area of areas) {
    if (!byCommune.has(area.commune_id)) byCommune.set(area.commune_id, []);
    byCommune.get(area.commune_id).push(area);
  }
  const rows = new Map(); // area id → {li, area, problem}
  const blocks = [];
  for (const province of provinces) {
    const provinceCounts = el("span", { class: "counts" });
    const section = el("section", { class: "province card", "data-province": province.id, "aria-labelledby": "p-" + province.id },
      el("h2", { id: "p-" + province.id }, province.name, provinceCounts));
    const communes = [];
    for (const commune of province.communes) {
      const list = el("ul", { class: "areas" });
      const communeCounts = el("span", { class: "counts" });
      const block = el("div", { class: "commune", "data-commune": commune.id }, el("h3", {}, commune.name, communeCounts), list);
      const members = (byCommune.get(commune.id) || []).slice().sort((a, b) => a.name.localeCompare(b.name, "vi"));
      for (const area of members) {
        const status = el("span", { class: "counts" });
        const li = el("li", { "data-area": area.id },
          el("a", { href: "/ui/areas/" + encodeURIComponent(area.id) }, area.name), status);
        rows.set(area.id, { li, status, area, problem: false, text: fold([area.name, area.id, commune.name, province.name].join(" ")) });
        list.append(li);
      }
      if (members.length) { communes.push({ block, communeCounts, members }); section.append(block); }
    }
    if (communes.length) { blocks.push({ section, province, provinceCounts, communes }); tree.append(section); }
  }
  if (!rows.size) { $("empty").textContent = S.no_areas; $("empty").hidden = false; }

  function applyFilter() {
    const query = fold($("search").value);
    const problemsOnly = $("filter").value === "problems";
    let shown = 0;
    for (const block of blocks) {
      let inProvince = 0;
      for (const commune of block.communes) {
        let inCommune = 0;
        for (const area of commune.members) {
          const row = rows.get(area.id);
          const visible = (!query || row.text.includes(query)) && (!problemsOnly || row.problem);
          row.li.hidden = !visible;
          inCommune += visible ? 1 : 0;
        }
        commune.block.hidden = inCommune === 0;
        inProvince += inCommune;
      }
      block.section.hidden = inProvince === 0;
      shown += inProvince;
    }
    if (rows.size) { $("empty").textContent = S.no_match; $("empty").hidden = shown > 0; }
  }
  $("search").addEventListener("input", applyFilter);
  $("filter").addEventListener("change", applyFilter);

  async function load() {
    const statuses = await Promise.all(blocks.map((b) => api("/provinces/" + encodeURIComponent(b.province.id) + "/status")));
    // When did each silent area fall silent: its open "area unreachable" incident says so.
    const silentSince = new Map();
    try {
      const query = new URLSearchParams({ kind: "area_unreachable", state: "unresolved", limit: "1000" });
      for (const i of await api("/incidents?" + query.toString())) {
        if (!silentSince.has(i.area_id) || silentSince.get(i.area_id) > i.opened_at) silentSince.set(i.area_id, i.opened_at);
      }
    } catch (error) { /* the counts still show; only the start time is missing */ }
    statuses.forEach((status, i) => {
      const block = blocks[i];
      block.provinceCounts.replaceChildren(...countChips(status.counts));
      const perArea = new Map(status.areas.map((a) => [a.area_id, a]));
      const silent = new Set(status.areas_silent);
      let unreachableAll = 0;
      for (const commune of block.communes) {
        const sum = { up: 0, degraded: 0, down: 0, unknown: 0 };
        let unreachable = 0;
        for (const area of commune.members) {
          const row = rows.get(area.id);
          const rollup = perArea.get(area.id);
          const isSilent = silent.has(area.id) || !rollup || (rollup.agents > 0 && rollup.agents_silent === rollup.agents);
          if (isSilent) {
            unreachable += 1;
            // A problem, not a neutral "?": since when nobody hears from the area.
            let start = silentSince.get(area.id);
            if (!start && rollup && rollup.last_report_age_s !== null) {
              start = new Date(new Date(status.generated_at).getTime() - rollup.last_report_age_s * 1000).toISOString();
            }
            row.status.replaceChildren(chip("down", start
              ? S.unreachable + " " + fmt("since_time", when(start)) + " (" + since(start) + ")" : S.unreachable));
          } else {
            for (const s of STATES) sum[s] += rollup.counts[s];
            row.status.replaceChildren(...countChips(rollup.counts));
          }
          row.problem = isSilent || (rollup && (rollup.counts.down > 0 || rollup.counts.degraded > 0));
        }
        unreachableAll += unreachable;
        const chips = countChips(sum);
        if (unreachable) chips.push(chip("down", unreachable + " " + S.areas_unreachable));
        commune.communeCounts.replaceChildren(...chips);
      }
      if (unreachableAll) block.provinceCounts.append(chip("down", unreachableAll + " " + S.areas_unreachable));
    });
    applyFilter();
    tree.setAttribute("aria-busy", "false");
  }
  await load();
  updated();
  every(load);
}

export const run = overviewPage;
