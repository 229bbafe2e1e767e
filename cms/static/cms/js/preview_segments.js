/*
 * Combine segments in the page preview. Wagtail's preview mode menu offers one segment at a time;
 * the ticks added below it choose several, and "Preview combined" adds their combined mode
 * ("segment-3+7") to the same menu and selects it, so Wagtail's own preview (refresh, new tab)
 * shows the page as a visitor in all of them sees it. It also keeps the preview up to date when
 * Wagtail's autosave stores an edit before the preview noticed it (below).
 */
(function () {
  "use strict";

  function strings() {
    const node = document.getElementById("preview-segments-strings");
    return node ? JSON.parse(node.textContent) : null;
  }

  function nameMatcher(template) {
    const escaped = template.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp("^" + escaped.replace("%\\(name\\)s", "(.+)") + "$");
  }

  function segmentName(option, matchers) {
    for (const matcher of matchers) {
      const found = option.text.trim().match(matcher);
      if (found) return found[1];
    }
    return option.text.trim();
  }

  function enhance(select, text) {
    const singles = Array.from(select.options).filter((o) => /^segment-\d+$/.test(o.value));
    if (singles.length < 2 || select.dataset.combineSegments) return;
    select.dataset.combineSegments = "ready";
    const matchers = [nameMatcher(text.used), nameMatcher(text.single)];

    const details = document.createElement("details");
    details.className = "w-mt-2 preview-segments";
    details.dataset.previewSegments = "";
    const summary = document.createElement("summary");
    summary.textContent = text.summary;
    details.append(summary);

    const fieldset = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.className = "w-sr-only";
    legend.textContent = text.summary;
    fieldset.append(legend);
    for (const option of singles) {
      const label = document.createElement("label");
      label.style.display = "block";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = option.value.replace("segment-", "");
      box.dataset.name = segmentName(option, matchers);
      label.append(box, " ", box.dataset.name);
      fieldset.append(label);
    }
    details.append(fieldset);

    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small button-secondary w-mt-2";
    button.textContent = text.button;
    button.addEventListener("click", () => {
      const ticked = Array.from(fieldset.querySelectorAll("input:checked"));
      if (!ticked.length) return;
      const value = "segment-" + ticked.map((box) => box.value).join("+");
      let option = Array.from(select.options).find((o) => o.value === value);
      if (!option) {
        const names = ticked.map((box) => box.dataset.name).join(" + ");
        option = new Option(text.combined.replace("%(names)s", names), value);
        select.add(option);
      }
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    details.append(button);

    const field = select.closest(".w-field__wrapper") || select;
    field.after(details);
  }

  function start() {
    const text = strings();
    if (!text) return;
    document.querySelectorAll("select[name='preview_mode']").forEach((s) => enhance(s, text));
  }

  /*
   * Wagtail 8 marks the preview stale only on "w-unsaved:add". When an autosave stores the edit
   * first, the unsaved-changes check then reports "clear" instead, and the preview keeps showing
   * the content from before the edit (an editor types a caption; the preview never shows it).
   * An autosave means the form changed, so the preview is stale: say so, and Wagtail's preview
   * controller updates it (now, or after the update already in flight).
   */
  document.addEventListener("w-autosave:success", () => {
    document.querySelectorAll("[data-controller~='w-preview']").forEach((panel) => {
      panel.setAttribute("data-w-preview-stale-value", "true");
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
