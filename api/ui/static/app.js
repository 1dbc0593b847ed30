/* smartarea dashboard: login, overview and area pages. No framework, no third-party code.
   The token stays in this tab's sessionStorage and goes only to this server, as a Bearer header;
   the API decides what the caller may see. Text from the server is always set as textContent. */
"use strict";
(function () {
  const body = document.body;
  const S = JSON.parse(document.getElementById("strings").textContent);
  const LANG = body.dataset.lang;
  const LOCALE = LANG === "vi" ? "vi-VN" : "en-GB";
  const TZ = "Asia/Ho_Chi_Minh";
  const REFRESH_MS = Number(body.dataset.refresh) * 1000;
  const KINDS = ["camera", "uplink", "wifi", "speaker", "pc"];
  const STATES = ["up", "degraded", "down", "unknown"];
  const TOKEN = "smartarea.token";
  const ME = "smartarea.me";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const $ = (id) => document.getElementById(id);
  const fmt = (key, n) => S[key].replace("{n}", n);

  /** Fold Vietnamese for search: NFD, strip combining marks, đ → d, lower case. */
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function showMessage(text) {
    const box = $("message");
    if (!text) { box.hidden = true; box.textContent = ""; return; }
    box.textContent = text;
    box.hidden = false;
  }

  function toLogin(expired) {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(ME);
    const next = location.pathname + location.search;
    const query = new URLSearchParams({ next: next });
    if (expired) query.set("expired", "1");
    location.replace("/ui/login?" + query.toString());
  }

  class ApiError extends Error {
    /** ``detail``: the API's own sentence (in the caller's language) when it gave one. */
    constructor(status, detail, retryAfter) {
      super("HTTP " + status); this.status = status; this.detail = detail; this.retryAfter = retryAfter;
    }
  }
  async function failure(response) {
    let detail = null;
    try {
      const body = await response.json();
      if (typeof body.detail === "string") detail = body.detail;
    } catch (e) { /* not JSON: no sentence to show */ }
    return new ApiError(response.status, detail, Number(response.headers.get("Retry-After")) || null);
  }

  async function api(path, asText) {
    const response = await fetch(path, {
      headers: {
        "Authorization": "Bearer " + sessionStorage.getItem(TOKEN),
        "Accept-Language": LANG,
      },
      cache: "no-store",
    });
    if (response.status === 401) { toLogin(true); throw new ApiError(401); }
    if (!response.ok) throw await failure(response);
    return asText ? response.text() : response.json();
  }

  async function post(path, payload) {
    const response = await fetch(path, {
      method: "POST",
      headers: {
        "Authorization": "Bearer " + sessionStorage.getItem(TOKEN),
        "Accept-Language": LANG,
        "Content-Type": "application/json",
      },
      body: JSON.stringify(payload),
    });
    if (response.status === 401) { toLogin(true); throw new ApiError(401); }
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  function problemText(error) {
    if (error instanceof ApiError) {
      if (error.status === 404) return S.not_found;
      if (error.status === 403) return S.forbidden;
      // A refusal the API explains (offline agent, too soon, device still down): its words.
      if ((error.status === 409 || error.status === 429) && error.detail) return error.detail;
      if (error.status === 429) return fmt("too_soon", error.retryAfter || 15);
      if (error.status === 409) return S.conflict;
    }
    return S.server_error;
  }

  function chip(state, label) {
    return el("span", { class: "chip s-" + state, "data-state": state }, label);
  }
  function countChips(counts) {
    return STATES.filter((s) => counts[s] > 0)
      .map((s) => chip(s, counts[s] + " " + S["count_" + s]));
  }
  function time(iso) {
    const parts = {};
    for (const p of new Intl.DateTimeFormat("en-GB", {
      timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", day: "2-digit", month: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(iso))) parts[p.type] = p.value;
    return parts.hour + ":" + parts.minute + ":" + parts.second + " " + parts.day + "/" + parts.month;
  }
  /** "14:05 03/12/2026": a time with its date, in Vietnam. */
  function when(iso) {
    const parts = {};
    for (const p of new Intl.DateTimeFormat("en-GB", {
      timeZone: TZ, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric", hourCycle: "h23",
    }).formatToParts(new Date(iso))) parts[p.type] = p.value;
    return parts.hour + ":" + parts.minute + " " + parts.day + "/" + parts.month + "/" + parts.year;
  }
  /** A duration in plain words: "45 giây", "12 phút", "2 giờ 5 phút", "3 ngày 4 giờ". */
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return fmt("dur_s", s);
    const m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
    if (m < 60) return fmt("dur_m", m);
    if (h < 24) return fmt("dur_h", h) + (m % 60 ? " " + fmt("dur_m", m % 60) : "");
    return fmt("dur_d", d) + (h % 24 ? " " + fmt("dur_h", h % 24) : "");
  }
  function since(iso, endIso) {
    const end = endIso ? new Date(endIso).getTime() : Date.now();
    return duration((end - new Date(iso).getTime()) / 1000);
  }
  /** A number the local way: "98,3" in Vietnamese, "98.3" in English. */
  function num(value, digits) {
    return value.toLocaleString(LOCALE, { maximumFractionDigits: digits === undefined ? 1 : digits });
  }
  function ago(iso) {
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (s < 90) return fmt("seconds_ago", s);
    if (s < 5400) return fmt("minutes_ago", Math.round(s / 60));
    if (s < 172800) return fmt("hours_ago", Math.round(s / 3600));
    return fmt("days_ago", Math.round(s / 86400));
  }
  function updated() {
    $("updated").textContent = S.updated_at + " " + new Date().toLocaleTimeString(LOCALE, { timeZone: TZ });
  }
  const MIN_COVERAGE = 50; // below this share of the window observed, a figure says too little
  function percent(value, coverage) {
    if (value === null || value === undefined) return S.no_data;
    if (coverage !== undefined && coverage !== null && coverage < MIN_COVERAGE) return S.too_little_data;
    if (value > 0 && value < 0.1) return "< " + num(0.1) + " %";
    if (value < 100 && value > 99.9) return "> " + num(99.9) + " %";
    return num(value, 1) + " %";
  }

  /** Re-run ``load`` every REFRESH_MS; a failed read keeps the page and says so. */
  function every(load) {
    const tick = async () => {
      try { await load(); updated(); showMessage(null); }
      catch (error) {
        if (!(error instanceof ApiError && error.status === 401)) $("updated").textContent = S.refresh_failed;
      }
      setTimeout(tick, REFRESH_MS);
    };
    setTimeout(tick, REFRESH_MS);
  }

  // ---- navigation ---------------------------------------------------------------------------
  function me() {
    try { return JSON.parse(sessionStorage.getItem(ME) || "null"); } catch (e) { return null; }
  }
  function setupNav() {
    const who = me();
    if (!who) return;
    $("who-name").textContent = who.username;
    $("who-role").textContent = S["role_" + who.role] || who.role;
    for (const node of document.querySelectorAll("[data-roles]")) {
      node.hidden = !node.dataset.roles.split(" ").includes(who.role);
    }
    if (who.role === "leader" && who.areas.length) {
      $("nav-areas").append(S.nav_my_areas + ": ",
        ...who.areas.map((a, i) => [i ? ", " : "", el("a", { href: "/ui/areas/" + encodeURIComponent(a) }, (who.names || {})[a] || a)]).flat());
    }
    $("logout").addEventListener("click", async () => {
      try {
        await fetch("/auth/logout", { method: "POST", headers: { "Authorization": "Bearer " + sessionStorage.getItem(TOKEN) } });
      } finally { toLogin(false); }
    });
    $("nav-catalog").addEventListener("click", async () => {
      try {
        const text = await api("/catalog", true);
        const url = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
        const link = el("a", { href: url, download: "catalog.yaml" });
        document.body.append(link); link.click(); link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
      } catch (error) { showMessage(problemText(error)); }
    });
    $("nav").hidden = false;
  }

  // ---- login ----------------------------------------------------------------------------------
  function loginPage() {
    const params = new URLSearchParams(location.search);
    if (params.get("expired")) showMessage(S.session_ended);
    if (params.get("changed")) showMessage(S.password_changed);
    const form = $("login");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $("login-button");
      button.disabled = true; button.textContent = S.login_wait;
      try {
        const response = await fetch("/auth/token", {
          method: "POST",
          headers: { "Accept-Language": LANG },
          body: new URLSearchParams({ username: $("username").value, password: $("password").value }),
        });
        if (response.status === 429) { showMessage((await response.json()).detail); return; } // locked: says how long
        if (!response.ok) { showMessage(response.status === 401 ? S.login_failed : S.server_error); return; }
        sessionStorage.setItem(TOKEN, (await response.json()).access_token);
        const who = await api("/auth/me");
        if (who.role === "leader") who.names = Object.fromEntries((await api("/areas")).map((a) => [a.id, a.name]));
        sessionStorage.setItem(ME, JSON.stringify(who));
        let next = params.get("next") || "";
        if (!/^\/ui\/[^/]/.test(next) || next.startsWith("/ui/login")) {
          next = who.role === "leader" && who.areas.length === 1
            ? "/ui/areas/" + encodeURIComponent(who.areas[0]) : "/ui/overview";
        }
        location.assign(next);
      } catch (error) {
        showMessage(S.server_error);
      } finally { button.disabled = false; button.textContent = S.login_button; }
    });
  }

  // ---- password -------------------------------------------------------------------------------
  async function passwordPage() {
    $("password-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const fresh = $("new-password").value;
      if ([...fresh].length < 10) { showMessage(S.password_short); return; } // letters, not bytes
      if (fresh !== $("confirm-password").value) { showMessage(S.password_mismatch); return; }
      const button = $("password-button");
      button.disabled = true;
      try {
        const response = await fetch("/auth/password", {
          method: "POST",
          headers: {
            "Authorization": "Bearer " + sessionStorage.getItem(TOKEN),
            "Accept-Language": LANG,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ current_password: $("current-password").value, new_password: fresh }),
        });
        if (response.status === 204) { // every session ended, this one too: log in again
          sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(ME);
          location.replace("/ui/login?changed=1");
          return;
        }
        if (response.status === 401) { toLogin(true); return; }
        if (response.status === 403) showMessage(S.password_wrong);
        else if (response.status === 429) showMessage((await response.json()).detail);
        else showMessage(S.server_error);
      } catch (error) {
        showMessage(S.server_error);
      } finally { button.disabled = false; }
    });
  }

  // ---- overview -------------------------------------------------------------------------------
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

  // ---- area -----------------------------------------------------------------------------------
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


  // ---- incidents ------------------------------------------------------------------------------
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

  async function unresolvedIncidents(areaId) {
    return api("/incidents?" + new URLSearchParams({ area_id: areaId, state: "unresolved", limit: "50" }).toString());
  }
  function renderAreaIncidents(incidents, area) {
    const names = {
      area: () => area.name,
      device: (_, id) => { const d = area.devices.find((x) => x.id === id); return d && d.name ? d.name : id; },
    };
    $("incidents").replaceChildren(...(incidents.length ? incidents.map((i) => el("li", { "data-incident": i.id },
      incidentChip(i.state), " ", incidentWhat(i, names), " · ",
      el("span", { class: "muted" }, [incidentWhen(i), incidentReason(i), incidentWho(i)].filter(Boolean).join(" · "))))
      : [el("li", { class: "muted" }, S.no_incidents)]));
  }


  // ---- certification --------------------------------------------------------------------------
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

  // ---- start ----------------------------------------------------------------------------------
  const page = body.dataset.page;
  if (page === "login") { loginPage(); return; }
  if (!sessionStorage.getItem(TOKEN)) { toLogin(false); return; }
  setupNav();
  const run = {
    overview: overviewPage, area: areaPage, incidents: incidentsPage, certification: certificationPage,
    password: passwordPage,
  }[page];
  run().catch((error) => {
    if (!(error instanceof ApiError && error.status === 401)) showMessage(problemText(error));
  });
})();
