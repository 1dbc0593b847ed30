/* smartarea dashboard: the entry point. The page named by <body data-page> loads its own module
   (login, overview, area, incidents, certification, password); every other page is signed in. */

import { ApiError, body, problemText, setupNav, showMessage, toLogin, TOKEN } from "./core.js";

const PAGES = {
  login: "./login.js",
  password: "./password.js",
  overview: "./overview.js",
  area: "./area.js",
  incidents: "./incidents.js",
  certification: "./certification.js",
};

async function start() {
  const page = body.dataset.page;
  if (page !== "login") {
    if (!sessionStorage.getItem(TOKEN)) { toLogin(false); return; }
    setupNav();
  }
  const module = await import(PAGES[page]);
  await module.run();
}

start().catch((error) => {
  if (!(error instanceof ApiError && error.status === 401)) showMessage(problemText(error));
});
