/* smartarea dashboard: the login page. */

import { S, LANG, TOKEN, ME, $, showMessage, api } from "./core.js";

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

export const run = loginPage;
