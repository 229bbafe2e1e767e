/* The A/B test block's variant select (cms/experiment_blocks.py): its options are the variants
 * of the experiment chosen in the same block, loaded from the admin, and they follow that
 * experiment when the editor chooses another. A variant is picked, never typed; the value
 * saved is the variant's key.
 *
 * Which experiment select belongs to a variant select comes from their ids, which Wagtail
 * derives from the block's prefix: "<block>-experiment" and "<block>-variants-<n>-value-variant".
 * A value the chosen experiment does not have (another experiment's variant, or an old typo)
 * stays selected and is labelled as such, so saving names it instead of dropping it silently.
 * An entry not chosen yet is given the first variant no other entry of the block holds.
 */
(() => {
  "use strict";

  const VARIANT_ID = /^(.*)-variants-\d+-value-variant$/;
  const RELOAD_AFTER_MS = 5000;
  const loading = new Map(); // experiment key -> Promise of [{key, label}] or null

  function variantsOf(url, key) {
    if (!key) return Promise.resolve(null);
    if (!loading.has(key)) {
      const request = fetch(`${url}?experiment=${encodeURIComponent(key)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then((response) => (response.ok ? response.json() : null))
        .then((body) => (body ? body.variants : null))
        .catch(() => null);
      loading.set(key, request);
      // The experiment may gain or lose variants in another tab: ask again a little later.
      setTimeout(() => loading.delete(key), RELOAD_AFTER_MS);
    }
    return loading.get(key);
  }

  function experimentSelectFor(select) {
    const match = VARIANT_ID.exec(select.id);
    return match ? document.getElementById(`${match[1]}-experiment`) : null;
  }

  function option(value, label) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    return element;
  }

  /* Keep `value` selectable (before the options arrive, or when it is not a variant). */
  function ensureOption(select, value, label) {
    if (!value) return;
    if (!Array.from(select.options).some((o) => o.value === value)) {
      select.append(option(value, label || value));
    }
  }

  /* The variant selects of the same A/B block as `select` (itself included). */
  function siblings(select) {
    const match = VARIANT_ID.exec(select.id);
    if (!match) return [select];
    return Array.from(document.querySelectorAll("select[data-variant-select]")).filter(
      (other) => {
        const otherMatch = VARIANT_ID.exec(other.id);
        return otherMatch && otherMatch[1] === match[1];
      },
    );
  }

  /* An entry not chosen yet takes the experiment's first variant no other entry holds, so the
   * entries line up with the variants as they are added; the editor may change it. */
  function firstFree(select, variants) {
    const taken = new Set(
      siblings(select)
        .filter((other) => other !== select)
        .map((other) => other.dataset.value),
    );
    const free = variants.find((variant) => !taken.has(variant.key));
    return free ? free.key : "";
  }

  function fill(select, variants, texts) {
    let value = select.dataset.value || "";
    const experiment = experimentSelectFor(select);
    const options = [];
    if (!experiment || !experiment.value) {
      options.push(option("", texts.chooseExperiment));
    } else if (variants === null) {
      options.push(option("", texts.unavailable));
    } else {
      options.push(option("", texts.choose));
      variants.forEach((variant) => options.push(option(variant.key, variant.label)));
    }
    select.replaceChildren(...options);
    if (value && !Array.from(select.options).some((o) => o.value === value)) {
      select.append(option(value, texts.notAVariant.replace("%(key)s", value)));
    }
    const picked = !value && variants ? firstFree(select, variants) : "";
    if (picked) value = select.dataset.value = picked;
    select.value = value;
    select.dataset.variantsFor = variants ? experiment.value : "";
    if (picked) select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function refresh(select, config) {
    const experiment = experimentSelectFor(select);
    const key = experiment ? experiment.value : "";
    select.dataset.loadingFor = key;
    return variantsOf(config.url, key).then((variants) => {
      // A later refresh (the editor changed the experiment again) wins.
      if (select.dataset.loadingFor === key) fill(select, variants, config);
    });
  }

  class BoundVariantSelect {
    constructor(select, name, initialState, config, parentCapabilities) {
      this.input = select;
      this.name = name;
      this.idForLabel = select.id;
      this.config = config;
      this.parentCapabilities = parentCapabilities || new Map();
      select.variantConfig = config;
      select.addEventListener("change", () => {
        select.dataset.value = select.value;
      });
      this.setState(initialState);
      // The experiment select beside it may be drawn in the same pass: read it once it is.
      setTimeout(() => refresh(select, config), 0);
    }

    getValue() {
      return this.input.value;
    }

    getState() {
      return this.input.value;
    }

    setState(state) {
      const value = state || "";
      this.input.dataset.value = value;
      ensureOption(this.input, value);
      this.input.value = value;
    }

    setInvalid(invalid) {
      if (invalid) this.input.setAttribute("aria-invalid", "true");
      else this.input.removeAttribute("aria-invalid");
    }

    getValueForLabel() {
      return this.getValue();
    }

    getTextLabel(options) {
      const label = String(this.getValue() || "").trim();
      const max = options && options.maxLength;
      return max && label.length > max ? `${label.substring(0, max - 1)}…` : label;
    }

    focus() {
      this.input.focus();
    }

    setCapabilityOptions(capability, options) {
      Object.assign(this.parentCapabilities.get(capability), options);
    }
  }

  class VariantSelect {
    constructor(html, config) {
      this.html = html;
      this.config = config;
    }

    render(placeholder, name, id, initialState, parentCapabilities, options = {}) {
      const template = document.createElement("template");
      template.innerHTML = this.html.replace(/__NAME__/g, name).replace(/__ID__/g, id).trim();
      const select = template.content.querySelector("select");
      placeholder.replaceWith(select);
      Object.entries((options && options.attributes) || {}).forEach(([attribute, value]) => {
        select.setAttribute(attribute, value);
      });
      return new BoundVariantSelect(select, name, initialState, this.config, parentCapabilities);
    }

    getByName(name, container) {
      const select = container.querySelector(`select[name="${name}"]`);
      return new BoundVariantSelect(select, name, select.value, this.config);
    }
  }

  /* Choosing another experiment reloads the variant selects of the same block. */
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLSelectElement) || !target.matches("[data-experiment-choice]")) {
      return;
    }
    const prefix = target.id.replace(/-experiment$/, "");
    document.querySelectorAll("select[data-variant-select]").forEach((select) => {
      const match = VARIANT_ID.exec(select.id);
      if (match && match[1] === prefix && select.variantConfig) {
        refresh(select, select.variantConfig);
      }
    });
  });

  window.telepath.register("cms.widgets.VariantSelect", VariantSelect);
})();
