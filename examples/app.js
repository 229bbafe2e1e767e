// A headless frontend for the Pawprint CMS API in plain JavaScript (no build step).
//
// 1. Gets a visitor token once (POST /api/v1/visitors/) and keeps it in localStorage.
// 2. Remembers the visit's landing URL (it carries the UTM parameters) and sends it, with every
//    call, as X-Page-Url: the server resolves segments from it, as the site would.
// 3. Fetches a page already resolved for this visitor (GET /api/v1/pages/find/?path=...) and
//    renders its blocks; the frontend never chooses a segment or a variant itself.
// 4. Reports what the visitor does as events (POST /api/v1/events/).
"use strict";

const TOKEN_KEY = "pawprint.visitorToken";
const LANDING_KEY = "pawprint.landingUrl";
const apiInput = document.getElementById("api-base");
apiInput.value =
  new URLSearchParams(location.search).get("api") || localStorage.getItem("pawprint.api") || "http://127.0.0.1:8000";
apiInput.addEventListener("change", () => {
  localStorage.setItem("pawprint.api", apiInput.value.replace(/\/$/, ""));
  localStorage.removeItem(TOKEN_KEY);
  route();
});

if (!sessionStorage.getItem(LANDING_KEY)) sessionStorage.setItem(LANDING_KEY, location.href);

// API CALLS
// ---------------------------------------------------------------------------------------------

function apiBase() {
  return apiInput.value.replace(/\/$/, "");
}

async function visitorToken() {
  let token = localStorage.getItem(TOKEN_KEY);
  if (token) return token;
  const response = await fetch(`${apiBase()}/api/v1/visitors/`, { method: "POST" });
  if (!response.ok) throw new Error(`Could not get a visitor token (${response.status})`);
  token = (await response.json()).visitor_token;
  localStorage.setItem(TOKEN_KEY, token);
  return token;
}

async function api(path, { method = "GET", body } = {}, retried = false) {
  const headers = {
    Accept: "application/json",
    "X-Visitor-Token": await visitorToken(),
    "X-Page-Url": sessionStorage.getItem(LANDING_KEY),
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${apiBase()}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json();
  if (response.status === 401 && /visitor token/.test(data?.detail || "") && !retried) {
    localStorage.removeItem(TOKEN_KEY); // expired or from another server: get a new one
    return api(path, { method, body }, true);
  }
  return { status: response.status, data };
}

function track(events) {
  const batch = (Array.isArray(events) ? events : [events]).map((event) => ({
    idempotency_key: crypto.randomUUID(), // a retry of the same event is stored once
    ...event,
  }));
  return api("/api/v1/events/", { method: "POST", body: batch });
}

// RENDERING
// ---------------------------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function picture(image) {
  if (!image) return null;
  const srcset = image.renditions.map((r) => `${r.url} ${r.width}w`).join(", ");
  const smallest = image.renditions[0];
  return el("img", { src: smallest ? smallest.url : "", srcset, sizes: "(min-width: 46rem) 46rem, 100vw", alt: image.alt });
}

function link(url) {
  // Links to pages of the site stay in this frontend; others leave it.
  return url && url.startsWith("/") ? `#${url}` : url;
}

function richText(html) {
  const node = el("div", { class: "rich-text" });
  node.innerHTML = html; // expanded by the CMS from editor content, as the site shows it
  for (const anchor of node.querySelectorAll("a[href^='/']")) anchor.href = link(anchor.getAttribute("href"));
  return node;
}

const RENDERERS = {
  heading: (v) => el(v.level || "h2", {}, v.text),
  paragraph: (v) => richText(v),
  image: (v) => el("figure", {}, picture(v.image), v.caption ? el("figcaption", {}, v.caption) : null),
  quote: (v) => el("blockquote", { class: "quote" }, v.quote, v.attribution ? el("footer", {}, `— ${v.attribution}`) : null),
  call_to_action: (v) =>
    el("aside", { class: "cta" }, el("h2", {}, v.title), v.text ? el("p", {}, v.text) : null,
      ctaButton(v.button_label, v.link.url)),
  greeting: (v) => el("section", { class: "greeting" }, picture(v.image), el("p", {}, v.text)),
  profile_form: (v) => (v.answered ? null : profileForm(v)),
  // Blocks that chose per visitor: `value` is what was chosen (meta in `chosen`).
  personalized: (v, block) => chosenBlock(v, block),
  experiment: (v, block) => chosenBlock(v, block),
  offer: (v, block) =>
    block.chosen.capped
      ? chosenBlock(v, block)
      : el("aside", { class: "offer" }, picture(v.image), el("h2", {}, v.title),
          v.text ? el("p", {}, v.text) : null, ctaButton(v.button_label, v.link.url)),
};

function ctaButton(label, url) {
  const button = el("a", { class: "button", href: link(url) }, label);
  button.addEventListener("click", () => track({ type: "goal", name: "cta-click", properties: { url } }));
  return button;
}

function chosenBlock(blocks, block) {
  const note = Object.entries(block.chosen).map(([k, v]) => `${k}: ${v ?? "default"}`).join(", ");
  return el("div", { class: "chosen-block" }, el("div", { class: "chosen" }, note), renderBlocks(blocks));
}

function profileForm(v) {
  const form = el("form", { class: "profile-form" }, el("h2", {}, v.heading), v.text ? el("p", {}, v.text) : null);
  for (const field of v.fields) {
    const input = field.type === "choice"
      ? el("select", { name: field.name, required: "" }, field.choices.map((c) => el("option", { value: c.value }, c.label)))
      : el("input", { name: field.name, required: "", maxlength: field.max_length });
    form.append(el("label", {}, `${field.name} `, input), " ");
  }
  const message = el("p", { class: "error" });
  form.append(el("button", { type: "submit" }, v.button_label), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answers = Object.fromEntries(new FormData(form));
    const { status, data } = await api(v.submit.url, { method: v.submit.method, body: answers });
    if (status === 200) route();
    else message.textContent = Object.values(data).flat().join(" ");
  });
  return form;
}

function renderBlocks(blocks) {
  return blocks.map((block) => {
    const render = RENDERERS[block.type];
    return render ? render(block.value, block) : el("pre", {}, JSON.stringify(block.value, null, 2));
  });
}

function renderPage(page) {
  const parts = [];
  if (page.hero) {
    parts.push(el("section", { class: "hero" }, picture(page.image), el("h1", {}, page.hero.title),
      el("p", {}, page.hero.text),
      page.hero.cta_page ? ctaButton(page.hero.cta_label, page.hero.cta_page.url) : null));
  } else {
    parts.push(el("h1", {}, page.title), page.intro ? el("p", { class: "muted" }, page.intro) : null);
  }
  parts.push(...renderBlocks(page.body));
  if (page.children.length) {
    parts.push(el("ul", { class: "cards" }, page.children.map((child) =>
      el("li", {}, el("a", { href: link(child.url) }, child.title), el("p", {}, child.intro)))));
  }
  return parts;
}

// NAVIGATION
// ---------------------------------------------------------------------------------------------

async function route() {
  const main = document.getElementById("page");
  const path = location.hash.replace(/^#/, "") || "/";
  try {
    const { status, data } = await api(`/api/v1/pages/find/?path=${encodeURIComponent(path)}`);
    if (status === 401) {
      main.replaceChildren(el("p", {}, "This page is for members: log in on the site first."));
      return;
    }
    if (status !== 200) {
      main.replaceChildren(el("p", { class: "error" }, data.detail || `Error ${status}`));
      return;
    }
    main.replaceChildren(...renderPage(data).filter(Boolean));
    document.title = `${data.title} — Pawprint Club (headless)`;
    track({ type: "page_view", page: data.id });
  } catch (error) {
    main.replaceChildren(el("p", { class: "error" }, `${error.message}. Is the API at ${apiBase()} and this origin in API_CORS_ALLOWED_ORIGINS?`));
  }
}

document.getElementById("why-button").addEventListener("click", async () => {
  const { data } = await api("/api/v1/visitor/");
  const why = document.getElementById("why");
  why.replaceChildren(
    el("p", {}, `Traits: ${JSON.stringify(data.traits)} · visits: ${data.profile.visit_count}`),
    data.segments.length
      ? el("ul", {}, data.segments.map((s) => el("li", {}, `${s.name}: ${s.decided_by}`)))
      : el("p", {}, "You are in no segment: you see the default content."),
  );
});

document.getElementById("forget-button").addEventListener("click", async () => {
  await api("/api/v1/visitor/", { method: "DELETE" });
  localStorage.removeItem(TOKEN_KEY);
  document.getElementById("why").replaceChildren(el("p", {}, "Everything about you was erased."));
  route();
});

window.addEventListener("hashchange", route);
route();
