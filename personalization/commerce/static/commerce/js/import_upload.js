// The CSV import's upload form: a file over the size limit is refused in the browser, before it
// is sent, with the server's own (translated) message — `data-too-large`, where "{size}" is the
// file's size in MB. The server refuses it too (before reading it) when this does not run.
(function () {
  "use strict";
  const form = document.querySelector("[data-import-upload]");
  if (!form) return;
  const input = form.querySelector('input[type="file"]');
  const error = form.querySelector("[data-import-too-large]");
  const limit = Number(form.dataset.maxBytes);
  if (!input || !error || !limit) return;

  function tooLarge() {
    const file = input.files && input.files[0];
    if (file && file.size > limit) {
      const size = (file.size / 1024 / 1024).toFixed(1);
      error.textContent = form.dataset.tooLarge.replace("{size}", size);
      error.hidden = false;
      return true;
    }
    error.textContent = "";
    error.hidden = true;
    return false;
  }

  input.addEventListener("change", tooLarge);
  form.addEventListener("submit", (event) => {
    if (tooLarge()) {
      event.preventDefault();
      input.focus();
    }
  });
})();
