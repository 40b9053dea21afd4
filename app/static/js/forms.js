// Forms: the error summary takes the focus, its links bring the field into view with its label, and a field with
// a length limit says how many characters are left (or over). The page works without this file.
(function () {
  "use strict";

  const summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", (event) => {
      const link = event.target.closest("a[href^='#']");
      if (!link) return;
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      // The legend of a list of options, else the field's label: a field scrolled to the top hides its question.
      const legend = target.closest("fieldset") && target.closest("fieldset").querySelector("legend");
      const label = legend || document.querySelector("label[for='" + target.id + "']") || target;
      label.scrollIntoView();
      target.focus({ preventScroll: true });
    });
  }

  const language = document.documentElement.lang || "fr";
  const plural = new Intl.PluralRules(language);
  const number = new Intl.NumberFormat(language);

  function count(field) {
    const status = document.getElementById(field.dataset.limitStatus);
    if (!status) return;
    const left = Number(field.dataset.limit) - field.value.length;
    const over = left < 0;
    const amount = Math.abs(left);
    const one = plural.select(amount) === "one";
    const template = over ? (one ? status.dataset.overOne : status.dataset.overOther)
      : (one ? status.dataset.one : status.dataset.other);
    status.textContent = template.replace("{n}", number.format(amount));
    status.classList.toggle("text-danger", over);
    status.classList.toggle("fw-bold", over);
  }

  document.querySelectorAll("[data-limit]").forEach((field) => {
    if (field.value) count(field);  // an empty field: the hint says the limit already
    // Read out after a pause, not at each key: the live region would talk over the typing.
    let timer;
    field.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => count(field), 400);
    });
  });
})();
