/* smartarea dashboard: the password page. */

import { S, LANG, TOKEN, ME, $, showMessage, toLogin } from "./core.js";

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

export const run = passwordPage;
