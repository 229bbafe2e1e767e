// The journey editor shows the fields of the chosen trigger only: the events and window of the
// event triggers, the window of the time triggers, the stock threshold of "a favourite's stock
// falls to the threshold" and the percentage of "a favourite's price drops".
(function () {
  "use strict";

  var TRIGGER_FIELDS = {
    event: ["trigger_event", "trigger_name"],
    event_without: [
      "trigger_event",
      "trigger_name",
      "follow_up_event",
      "window_amount",
      "window_unit",
    ],
    no_visit: ["window_amount", "window_unit"],
    after_first_purchase: ["window_amount", "window_unit"],
    favourite_low_stock: ["stock_threshold"],
    favourite_back: [],
    favourite_price_drop: ["price_drop_percent"],
  };
  var ALL_FIELDS = [
    "trigger_event",
    "trigger_name",
    "follow_up_event",
    "window_amount",
    "window_unit",
    "stock_threshold",
    "price_drop_percent",
  ];

  function fieldWrapper(input) {
    return (
      input.closest("[data-field-wrapper]") ||
      input.closest(".w-field__wrapper") ||
      input.closest("[data-contentpath]")
    );
  }

  function showFieldsOf(select) {
    var shown = TRIGGER_FIELDS[select.value];
    if (!shown) {
      return; // an unknown trigger: leave every field visible
    }
    var form = select.form || document;
    ALL_FIELDS.forEach(function (field) {
      var input = form.querySelector('[name="' + field + '"]');
      var wrapper = input && fieldWrapper(input);
      if (wrapper) {
        wrapper.hidden = shown.indexOf(field) === -1;
      }
    });
  }

  function showAll() {
    document.querySelectorAll("select[data-journey-trigger]").forEach(showFieldsOf);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-journey-trigger]")) {
      showFieldsOf(event.target);
    }
  });
  document.addEventListener("DOMContentLoaded", showAll);
  showAll();
})();
