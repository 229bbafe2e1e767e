// The experiment form (experiments/forms.py): each goal shows only the fields of its kind, and
// marking one goal primary unmarks the others. Plain DOM, no build step; works for goals added
// with "Add goal" too (they are watched for).
(() => {
  const FIELDS = {
    page_visit: ['page', 'include_descendants'],
    event: ['event_type', 'min_amount'],
    custom: ['custom_name'],
  };
  const ALL = [...new Set(Object.values(FIELDS).flat())];
  const KIND = 'select[name^="goals-"][name$="-kind"]';
  const PRIMARY = 'input[type="checkbox"][name^="goals-"][name$="-is_primary"]';

  const wrapper = (input) => input && input.closest('[data-field-wrapper], .w-field__wrapper');

  function showFieldsOf(select) {
    const prefix = select.name.slice(0, -'-kind'.length);
    const shown = FIELDS[select.value] || ALL;
    ALL.forEach((field) => {
      const box = wrapper(document.querySelector(`[name="${prefix}-${field}"]`));
      if (box) box.hidden = !shown.includes(field);
    });
  }

  const update = () => document.querySelectorAll(KIND).forEach(showFieldsOf);

  document.addEventListener('change', (event) => {
    if (event.target.matches(KIND)) showFieldsOf(event.target);
    if (event.target.matches(PRIMARY) && event.target.checked) {
      document.querySelectorAll(PRIMARY).forEach((box) => {
        if (box !== event.target) box.checked = false;
      });
    }
  });
  const start = () => {
    update();
    new MutationObserver(update).observe(document.body, { childList: true, subtree: true });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
