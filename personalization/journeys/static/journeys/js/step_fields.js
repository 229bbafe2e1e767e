// The journey step editor shows the fields of the chosen action only: an e-mail step its
// e-mail, an on-site step its message, a webhook step its URL and secret. Steps added with
// "Add step" are found too (the listener is on the document).
(function () {
  "use strict";

  var ACTION_FIELDS = {
    email: ["email_template"],
    on_site: ["message_title", "message_text", "message_link"],
    webhook: ["webhook_url", "webhook_secret"],
  };
  var ALL_FIELDS = [].concat(ACTION_FIELDS.email, ACTION_FIELDS.on_site, ACTION_FIELDS.webhook);

  function fieldWrapper(input) {
    return (
      input.closest("[data-field-wrapper]") ||
      input.closest(".w-field__wrapper") ||
      input.closest("[data-contentpath]")
    );
  }

  function showFieldsOf(select) {
    var prefix = select.name.replace(/-action$/, "-");
    var shown = ACTION_FIELDS[select.value] || [];
    ALL_FIELDS.forEach(function (field) {
      var input = document.querySelector('[name="' + prefix + field + '"]');
      var wrapper = input && fieldWrapper(input);
      if (wrapper) {
        wrapper.hidden = shown.indexOf(field) === -1;
      }
    });
  }

  function showAll() {
    document.querySelectorAll("select[data-journey-step-action]").forEach(showFieldsOf);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-journey-step-action]")) {
      showFieldsOf(event.target);
    }
  });
  // A new step's form is inserted by Wagtail's inline panel: look again after each insertion.
  new MutationObserver(showAll).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
  document.addEventListener("DOMContentLoaded", showAll);
  showAll();
})();
