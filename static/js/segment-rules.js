/* The segment editor's rule rows and reach estimate (personalization/wagtail_hooks.py), as two
 * Stimulus controllers registered with Wagtail's admin application.
 *
 * segment-rule (on each row's value): the row is typed by its attribute. The operator list
 * keeps only the operators that fit the attribute's kind; the value becomes a dropdown of the
 * attribute's known values, a number, two numbers for a range, or nothing for "is known". The
 * stored value stays the text input the server reads ("dog", "20-29", "tokyo,osaka"): the
 * typed inputs write into it, and without JavaScript it is simply shown. A saved operator that
 * does not fit its attribute stays selected (saving then says what to fix), never silently
 * replaced. What each attribute is comes from the JSON the reach panel prints
 * (#segment-rule-attributes); an attribute it does not describe keeps a plain text value.
 *
 * segment-reach (under the rules): posts the whole form to the estimate endpoint whenever a
 * rule or the match mode changes (debounced, the latest answer wins) and shows the count, a
 * "Counting…" while waiting, or the one-line message of a rule that is not finished.
 */
(() => {
  "use strict";

  if (!window.wagtail || !window.wagtail.app || !window.StimulusModule) return;
  const { Controller } = window.StimulusModule;

  const NO_VALUE = new Set(["exists", "missing", "true", "false"]);
  const MULTIPLE = new Set(["in", "nin"]);
  const RANGE = /^\s*(-?\d+(?:\.\d+)?)\s*(?:-|–|~|to|,)\s*(-?\d+(?:\.\d+)?)\s*$/;
  const DEBOUNCE_MS = 400;

  let attributes = null;
  function attributeInfo(key) {
    if (attributes === null) {
      const script = document.getElementById("segment-rule-attributes");
      attributes = script ? JSON.parse(script.textContent) : {};
    }
    return attributes[key] || null;
  }

  function element(tag, props = {}) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    return node;
  }

  /* The known value `text` names, ignoring case (by value or by label), else null. */
  function choiceFor(info, text) {
    const wanted = String(text || "").trim().toLowerCase();
    const found = info.choices.find(
      ([value, label]) => value.toLowerCase() === wanted || label.toLowerCase() === wanted,
    );
    return found ? found[0] : null;
  }

  class SegmentRuleController extends Controller {
    static targets = ["raw", "typed"];

    connect() {
      const prefix = this.rawTarget.id.replace(/value$/, "");
      this.attribute = document.getElementById(`${prefix}attribute`);
      this.operator = document.getElementById(`${prefix}operator`);
      if (!this.attribute || !this.operator) return;
      this.labels = new Map(Array.from(this.operator.options).map((o) => [o.value, o.text]));
      this.labelId = `${this.rawTarget.id}-label`;
      this.onAttribute = () => this.attributeChanged();
      this.onOperator = () => this.render();
      this.attribute.addEventListener("change", this.onAttribute);
      this.operator.addEventListener("change", this.onOperator);
      this.fillOperators(true);
      this.render();
    }

    disconnect() {
      if (!this.attribute || !this.operator) return;
      this.attribute.removeEventListener("change", this.onAttribute);
      this.operator.removeEventListener("change", this.onOperator);
    }

    get info() {
      return attributeInfo(this.attribute.value);
    }

    attributeChanged() {
      this.fillOperators(false);
      this.setRaw("");
      this.render();
    }

    /* Only the operators that fit; on first drawing, a saved one that does not is kept. */
    fillOperators(keepSaved) {
      const info = this.info;
      const current = this.operator.value;
      const operators = info ? info.operators : Array.from(this.labels.entries());
      const options = operators.map(([value, label]) => element("option", { value, text: label }));
      if (keepSaved && current && !operators.some(([value]) => value === current)) {
        options.push(element("option", { value: current, text: this.labels.get(current) || current }));
      }
      this.operator.replaceChildren(...options);
      const fits = Array.from(this.operator.options).some((o) => o.value === current);
      this.operator.value = fits ? current : operators.length ? operators[0][0] : "";
    }

    setRaw(text) {
      if (this.rawTarget.value === text) return;
      this.rawTarget.value = text;
      this.rawTarget.dispatchEvent(new Event("input", { bubbles: true }));
      this.rawTarget.dispatchEvent(new Event("change", { bubbles: true }));
    }

    labelled(control, suffix) {
      if (document.getElementById(this.labelId)) {
        control.setAttribute("aria-labelledby", suffix ? `${this.labelId} ${suffix}` : this.labelId);
      } else {
        control.setAttribute("aria-label", this.rawTarget.dataset.label || "Value");
      }
      return control;
    }

    /* The typed input for the row's attribute and operator, or the plain text one. */
    render() {
      const info = this.info;
      const op = this.operator.value;
      const typed = this.typedTarget;
      typed.replaceChildren();
      let controls = null;
      if (NO_VALUE.has(op)) {
        this.setRaw("");
        controls = [];
      } else if (info && info.kind === "choice") {
        controls = MULTIPLE.has(op) ? this.choiceList(info) : this.choiceSelect(info);
      } else if (info && info.kind === "number" && op === "between") {
        controls = this.range();
      } else if (info && info.kind === "number" && !MULTIPLE.has(op)) {
        controls = this.number();
      }
      const showRaw = controls === null;
      this.rawTarget.hidden = !showRaw;
      this.rawTarget.type = showRaw ? "text" : "hidden";
      this.rawTarget.placeholder = MULTIPLE.has(op) ? "a, b, c" : "";
      typed.hidden = showRaw || controls.length === 0;
      if (!showRaw) typed.append(...controls);
    }

    choiceSelect(info) {
      const select = this.labelled(element("select"));
      const chosen = choiceFor(info, this.rawTarget.value);
      select.append(element("option", { value: "", text: "---------" }));
      info.choices.forEach(([value, label]) => select.append(element("option", { value, text: label })));
      select.value = chosen || "";
      if (chosen) this.setRaw(chosen);
      select.addEventListener("change", () => this.setRaw(select.value));
      return [select];
    }

    choiceList(info) {
      const select = this.labelled(element("select", { multiple: true, size: 4 }));
      const given = this.rawTarget.value.split(",").map((part) => choiceFor(info, part));
      info.choices.forEach(([value, label]) => {
        select.append(element("option", { value, text: label, selected: given.includes(value) }));
      });
      select.addEventListener("change", () => {
        this.setRaw(Array.from(select.selectedOptions, (o) => o.value).join(","));
      });
      return [select];
    }

    number() {
      const input = this.labelled(element("input", { type: "number", step: "any" }));
      input.value = /^-?\d+(\.\d+)?$/.test(this.rawTarget.value.trim()) ? this.rawTarget.value.trim() : "";
      input.addEventListener("input", () => this.setRaw(input.value));
      return [input];
    }

    range() {
      const match = RANGE.exec(this.rawTarget.value);
      const words = this.rawTarget.dataset;
      const low = element("input", { type: "number", step: "any", value: match ? match[1] : "" });
      const high = element("input", { type: "number", step: "any", value: match ? match[2] : "" });
      low.setAttribute("aria-label", words.from || "From");
      high.setAttribute("aria-label", words.to || "To");
      const and = element("span", { className: "segment-rule-value__and" });
      and.textContent = words.and || "and";
      and.setAttribute("aria-hidden", "true");
      const sync = () => {
        const both = low.value !== "" && high.value !== "";
        this.setRaw(both ? `${low.value}-${high.value}` : `${low.value}${high.value}`);
      };
      low.addEventListener("input", sync);
      high.addEventListener("input", sync);
      return [low, and, high];
    }
  }

  class SegmentReachController extends Controller {
    static targets = ["text", "note"];
    static values = { url: String, counting: String, failed: String, rule: String };

    connect() {
      this.form = this.element.closest("form");
      if (!this.form) return;
      this.timer = null;
      this.request = null;
      this.onChange = (event) => {
        const name = (event.target && event.target.name) || "";
        if (/^(rules-|match$|advanced$|condition$)/.test(name)) this.schedule();
      };
      this.onRows = () => this.schedule();
      this.form.addEventListener("input", this.onChange);
      this.form.addEventListener("change", this.onChange);
      this.form.addEventListener("w-formset:added", this.onRows);
      this.form.addEventListener("w-formset:removed", this.onRows);
      this.estimate();
    }

    disconnect() {
      if (!this.form) return;
      this.form.removeEventListener("input", this.onChange);
      this.form.removeEventListener("change", this.onChange);
      this.form.removeEventListener("w-formset:added", this.onRows);
      this.form.removeEventListener("w-formset:removed", this.onRows);
      clearTimeout(this.timer);
    }

    schedule() {
      clearTimeout(this.timer);
      this.show(this.countingValue, "", true);
      this.timer = setTimeout(() => this.estimate(), DEBOUNCE_MS);
    }

    show(text, note, busy, failed = false) {
      this.element.setAttribute("aria-busy", busy ? "true" : "false");
      this.element.classList.toggle("segment-reach--counting", busy);
      this.element.classList.toggle("segment-reach--error", failed);
      this.textTarget.textContent = text;
      this.noteTarget.textContent = note || "";
      this.noteTarget.hidden = !note;
    }

    /* "Rule 2: Give a value for Age." for a row's message; the message alone otherwise. */
    describe(body) {
      const field = Object.keys(body.errors || {})[0] || "";
      const row = /^rules-(\d+)-/.exec(field);
      if (!row) return body.message;
      const child = document.getElementById(`inline_child_rules-${row[1]}`);
      const visible = Array.from(
        document.querySelectorAll("#id_rules-FORMS > [data-inline-panel-child]:not(.deleted)"),
      );
      const position = child ? visible.indexOf(child) + 1 : 0;
      return position > 0 ? `${this.ruleValue} ${position}: ${body.message}` : body.message;
    }

    async estimate() {
      if (this.request) this.request.abort();
      const request = new AbortController();
      this.request = request;
      this.show(this.countingValue, "", true);
      try {
        const response = await fetch(this.urlValue, {
          method: "POST",
          body: new FormData(this.form),
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          signal: request.signal,
        });
        const body = await response.json();
        if (request !== this.request) return;
        if (response.ok) this.show(body.text, body.note, false);
        else if (response.status === 400) this.show(this.describe(body), "", false, true);
        else this.show(this.failedValue, "", false, true);
      } catch (error) {
        if (request === this.request && error.name !== "AbortError") {
          this.show(this.failedValue, "", false, true);
        }
      }
    }
  }

  window.wagtail.app.register("segment-rule", SegmentRuleController);
  window.wagtail.app.register("segment-reach", SegmentReachController);
})();
