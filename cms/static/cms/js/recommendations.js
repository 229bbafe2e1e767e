/* Clicks on recommended products: a card shown by the recommender carries
 * data-recommendation-block, data-recommendation-arm ("explore" / "exploit") and
 * data-recommendation-sku (templates/commerce/product_card.html). A click on any link inside it
 * reports a `recommendation_click` event (POST /api/v1/events/, the site's cookies name the
 * visitor) with `keepalive`, so the report survives the navigation it starts. A middle click
 * (the product opened in a new tab) is a click on the recommendation too: browsers fire
 * `auxclick` for it, not `click`, so both are listened to. Impressions are recorded by the
 * server when it picks the products. Clicks are delegated: loaded once per page (a second copy
 * of the script does nothing), cards added later work too.
 */
(() => {
  "use strict";

  if (window.pawprintRecommendations) return;
  window.pawprintRecommendations = true;
  const API = "/api/v1/events/";

  function csrfToken(card) {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    const section = card.closest("[data-csrf]");
    return (match && decodeURIComponent(match[1])) || (section && section.dataset.csrf) || "";
  }

  function report(event) {
    const link = event.target.closest("a[href]");
    const card = link && link.closest("[data-recommendation-block]");
    if (!card) return;
    const body = {
      type: "recommendation_click",
      properties: {
        sku: card.dataset.recommendationSku || "",
        arm: card.dataset.recommendationArm || "",
        block: card.dataset.recommendationBlock || "",
      },
    };
    try {
      fetch(API, {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(card),
          "X-Requested-With": "XMLHttpRequest",
        },
        body: JSON.stringify(body),
      });
    } catch (error) {
      /* a report that cannot be sent never stops the visitor's click */
    }
  }

  document.addEventListener("click", report);
  document.addEventListener("auxclick", (event) => {
    if (event.button === 1) report(event); // the middle button: opened in a new tab
  });
})();
