/* The favourite buttons of product cards and product pages (templates/commerce/
 * favourite_button.html): a <button data-favourite-sku aria-pressed>. A click adds the product
 * to the visitor's favourites (POST /api/v1/favourites/ {"sku"}) or removes it
 * (DELETE /api/v1/favourites/<sku>/), for anonymous visitors and members alike: the API knows
 * the visitor by the site's cookies, and the CSRF token comes with the button (or the cookie).
 * Every button of the same product on the page follows; the button is pressed only once the
 * API has answered. Loaded once per page (templates/base.html); clicks are delegated, so cards
 * added later work too.
 */
(() => {
  "use strict";

  if (window.pawprintFavourites) return;
  const API = "/api/v1/favourites/";
  const SELECTOR = "button[data-favourite-sku]";

  function csrfToken(button) {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return (match && decodeURIComponent(match[1])) || button.dataset.csrfToken || "";
  }

  function buttonsOf(sku) {
    return Array.from(document.querySelectorAll(SELECTOR)).filter(
      (button) => button.dataset.favouriteSku === sku,
    );
  }

  function show(sku, pressed) {
    for (const button of buttonsOf(sku)) {
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
      button.removeAttribute("aria-busy");
    }
    document.dispatchEvent(
      new CustomEvent("favourite:changed", { detail: { sku, favourited: pressed } }),
    );
  }

  async function toggle(button) {
    const sku = button.dataset.favouriteSku;
    const adding = button.getAttribute("aria-pressed") !== "true";
    const headers = {
      Accept: "application/json",
      "X-CSRFToken": csrfToken(button),
      "X-Requested-With": "XMLHttpRequest",
    };
    const options = { method: adding ? "POST" : "DELETE", credentials: "same-origin", headers };
    if (adding) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify({ sku });
    }
    const url = adding ? API : `${API}${encodeURIComponent(sku).replace(/%2F/g, "/")}/`;
    button.setAttribute("aria-busy", "true");
    let response = null;
    try {
      response = await fetch(url, options);
    } catch (error) {
      response = null;
    }
    // Removing one that is no longer there is as good as removed.
    if (response && (response.ok || (!adding && response.status === 404))) {
      show(sku, adding);
      return;
    }
    button.removeAttribute("aria-busy");
    if (button.dataset.error) window.alert(button.dataset.error);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest(SELECTOR);
    if (!button || button.getAttribute("aria-busy") === "true") return;
    event.preventDefault();
    toggle(button);
  });

  window.pawprintFavourites = { toggle, show };
})();
