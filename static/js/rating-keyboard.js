// The title page's half-star rating saves on purpose. Its ten radios change
// with the arrow keys, and a change by keyboard only shows the new value:
// Enter saves it, leaving the stars saves it, Escape puts the saved value
// back. A click (or tap) on a star saves at once. Saving is the form's own
// submit, which htmx posts (hx-trigger="submit"); without JavaScript the
// <noscript> "Save rating" button does it.
// A file of its own: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var FORM = ".rating-form";
  var STARS = ".star-input";
  var RADIO = ".star-radio";
  var PENDING = ".rating-pending";

  function checked(form) {
    var radio = form.querySelector(RADIO + ":checked");
    return radio ? radio.value : "";
  }

  function remember(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var forms = Array.prototype.slice.call(scope.querySelectorAll(FORM));
    if (scope.matches && scope.matches(FORM)) forms.push(scope);
    forms.forEach(function (form) {
      form.dataset.saved = checked(form);
      form.dataset.keyed = "";
    });
  }

  function show(form, text) {
    var pending = form.querySelector(PENDING);
    if (pending) pending.textContent = text;
  }

  function dirty(form) {
    return form.dataset.saved !== undefined && checked(form) !== form.dataset.saved;
  }

  function save(form) {
    if (!dirty(form) || form.dataset.saving === "yes") return;
    form.dataset.saving = "yes";
    show(form, "");
    form.requestSubmit();
  }

  document.addEventListener("pointerdown", function (event) {
    var form = event.target instanceof Element && event.target.closest(FORM);
    if (form) form.dataset.keyed = "";
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.matches(RADIO)) return;
    var form = target.closest(FORM);
    if (!form) return;
    if (event.key === "Enter") {
      event.preventDefault();
      save(form);
    } else if (event.key === "Escape") {
      if (!dirty(form)) return;
      event.preventDefault();
      Array.prototype.forEach.call(form.querySelectorAll(RADIO), function (radio) {
        radio.checked = radio.value === form.dataset.saved;
        if (radio.checked) radio.focus();
      });
      show(form, "");
    } else if (event.key !== "Tab" && event.key !== "Shift") {
      // Arrows and Space change the radios: show, don't save.
      form.dataset.keyed = "yes";
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.matches(RADIO)) return;
    var form = target.closest(FORM);
    if (!form) return;
    if (form.dataset.keyed === "yes") {
      form.dataset.keyed = "";
      var label = form.querySelector('label[for="' + target.id + '"]');
      show(form, dirty(form) ? (label ? label.textContent.trim() + ": " : "") +
        "press Enter to save" : "");
    } else {
      save(form);
    }
  });

  // Leaving the stars with a value not yet saved saves it.
  document.addEventListener("focusout", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.matches(RADIO)) return;
    var form = target.closest(FORM);
    var stars = target.closest(STARS);
    if (!form || !stars) return;
    if (event.relatedTarget instanceof Node && stars.contains(event.relatedTarget)) return;
    save(form);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target instanceof Element && event.target.closest(FORM);
    if (form) form.dataset.saving = "";
  });

  document.addEventListener("htmx:load", function (event) { remember(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { remember(document); });
  } else {
    remember(document);
  }
})();
