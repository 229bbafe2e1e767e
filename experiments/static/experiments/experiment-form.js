// The experiment form (experiments/forms.py): each goal shows only the fields of its kind, and
// marking one goal primary unmarks the others. A guardrail goal shows "Harm is", and a goal is
// either primary or a guardrail (ticking one unticks the other). Plain DOM, no build step; works
// for goals added with "Add goal" too (they are watched for).
(() => {
  const FIELDS = {
    page_visit: ['page', 'include_descendants'],
    event: ['event_type', 'min_amount'],
    custom: ['custom_name'],
  };
  const ALL = [...new Set(Object.values(FIELDS).flat())];
  const KIND = 'select[name^="goals-"][name$="-kind"]';
  const PRIMARY = 'input[type="checkbox"][name^="goals-"][name$="-is_primary"]';
  const GUARDRAIL = 'input[type="checkbox"][name^="goals-"][name$="-is_guardrail"]';

  const wrapper = (input) => input && input.closest('[data-field-wrapper], .w-field__wrapper');

  function showFieldsOf(select) {
    const prefix = select.name.slice(0, -'-kind'.length);
    const shown = FIELDS[select.value] || ALL;
    ALL.forEach((field) => {
      const box = wrapper(document.querySelector(`[name="${prefix}-${field}"]`));
      if (box) box.hidden = !shown.includes(field);
    });
  }

  const sibling = (input, from, to) =>
    document.querySelector(`[name="${input.name.slice(0, -from.length)}${to}"]`);

  function showHarmOf(box) {
    const harm = wrapper(sibling(box, '-is_guardrail', '-harm_direction'));
    if (harm) harm.hidden = !box.checked;
  }

  const update = () => {
    document.querySelectorAll(KIND).forEach(showFieldsOf);
    document.querySelectorAll(GUARDRAIL).forEach(showHarmOf);
  };

  document.addEventListener('change', (event) => {
    if (event.target.matches(KIND)) showFieldsOf(event.target);
    if (event.target.matches(PRIMARY) && event.target.checked) {
      document.querySelectorAll(PRIMARY).forEach((box) => {
        if (box !== event.target) box.checked = false;
      });
      const guardrail = sibling(event.target, '-is_primary', '-is_guardrail');
      if (guardrail && guardrail.checked) {
        guardrail.checked = false;
        showHarmOf(guardrail);
      }
    }
    if (event.target.matches(GUARDRAIL)) {
      showHarmOf(event.target);
      const primary = sibling(event.target, '-is_guardrail', '-is_primary');
      if (event.target.checked && primary) primary.checked = false;
    }
  });
  const start = () => {
    update();
    new MutationObserver(update).observe(document.body, { childList: true, subtree: true });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
