/* smartarea dashboard, shared by every page: strings, formatting, the API client and the
   navigation. No framework, no third-party code, no build step: the browser loads these
   ES modules as they are. The token stays in this tab's sessionStorage and goes only to this
   server, as a Bearer header; the API decides what the caller may see. Text from the server
   is always set as textContent. */

export const body = document.body;
export const S = JSON.parse(document.getElementById("strings").textContent);
export const LANG = body.dataset.lang;
export const LOCALE = LANG === "vi" ? "vi-VN" : "en-GB";
export const TZ = "Asia/Ho_Chi_Minh";
export const REFRESH_MS = Number(body.dataset.refresh) * 1000;
export const KINDS = ["camera", "uplink", "wifi", "speaker", "pc"];
export const STATES = ["up", "degraded", "down", "unknown"];
export const TOKEN = "smartarea.token";
export const ME = "smartarea.me";

export function el(tag, attrs, ...children) {
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
export const $ = (id) => document.getElementById(id);
export const fmt = (key, n) => S[key].replace("{n}", n);

/** Fold Vietnamese for search: NFD, strip combining marks, đ → d, lower case. */
export function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase().replace(/\s+/g, " ").trim();
}

export function showMessage(text) {
  const box = $("message");
  if (!text) { box.hidden = true; box.textContent = ""; return; }
  box.textContent = text;
  box.hidden = false;
}

export function toLogin(expired) {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(ME);
  const next = location.pathname + location.search;
  const query = new URLSearchParams({ next: next });
  if (expired) query.set("expired", "1");
  location.replace("/ui/login?" + query.toString());
}

export class ApiError extends Error {
  /** ``detail``: the API's own sentence (in the caller's language) when it gave one. */
  constructor(status, detail, retryAfter) {
    super("HTTP " + status); this.status = status; this.detail = detail; this.retryAfter = retryAfter;
  }
}
export async function failure(response) {
  let detail = null;
  try {
    const body = await response.json();
    if (typeof body.detail === "string") detail = body.detail;
  } catch (e) { /* not JSON: no sentence to show */ }
  return new ApiError(response.status, detail, Number(response.headers.get("Retry-After")) || null);
}

export async function api(path, asText) {
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

export async function post(path, payload) {
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

export function problemText(error) {
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

export function chip(state, label) {
  return el("span", { class: "chip s-" + state, "data-state": state }, label);
}
export function countChips(counts) {
  return STATES.filter((s) => counts[s] > 0)
    .map((s) => chip(s, counts[s] + " " + S["count_" + s]));
}
export function time(iso) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", day: "2-digit", month: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso))) parts[p.type] = p.value;
  return parts.hour + ":" + parts.minute + ":" + parts.second + " " + parts.day + "/" + parts.month;
}
/** "14:05 03/12/2026": a time with its date, in Vietnam. */
export function when(iso) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric", hourCycle: "h23",
  }).formatToParts(new Date(iso))) parts[p.type] = p.value;
  return parts.hour + ":" + parts.minute + " " + parts.day + "/" + parts.month + "/" + parts.year;
}
/** A duration in plain words: "45 giây", "12 phút", "2 giờ 5 phút", "3 ngày 4 giờ". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return fmt("dur_s", s);
  const m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (m < 60) return fmt("dur_m", m);
  if (h < 24) return fmt("dur_h", h) + (m % 60 ? " " + fmt("dur_m", m % 60) : "");
  return fmt("dur_d", d) + (h % 24 ? " " + fmt("dur_h", h % 24) : "");
}
export function since(iso, endIso) {
  const end = endIso ? new Date(endIso).getTime() : Date.now();
  return duration((end - new Date(iso).getTime()) / 1000);
}
/** A number the local way: "98,3" in Vietnamese, "98.3" in English. */
export function num(value, digits) {
  return value.toLocaleString(LOCALE, { maximumFractionDigits: digits === undefined ? 1 : digits });
}
export function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 90) return fmt("seconds_ago", s);
  if (s < 5400) return fmt("minutes_ago", Math.round(s / 60));
  if (s < 172800) return fmt("hours_ago", Math.round(s / 3600));
  return fmt("days_ago", Math.round(s / 86400));
}
export function updated() {
  $("updated").textContent = S.updated_at + " " + new Date().toLocaleTimeString(LOCALE, { timeZone: TZ });
}
export const MIN_COVERAGE = 50; // below this share of the window observed, a figure says too little
export function percent(value, coverage) {
  if (value === null || value === undefined) return S.no_data;
  if (coverage !== undefined && coverage !== null && coverage < MIN_COVERAGE) return S.too_little_data;
  if (value > 0 && value < 0.1) return "< " + num(0.1) + " %";
  if (value < 100 && value > 99.9) return "> " + num(99.9) + " %";
  return num(value, 1) + " %";
}

/** Re-run ``load`` every REFRESH_MS; a failed read keeps the page and says so. */
export function every(load) {
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
export function me() {
  try { return JSON.parse(sessionStorage.getItem(ME) || "null"); } catch (e) { return null; }
}
export function setupNav() {
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
