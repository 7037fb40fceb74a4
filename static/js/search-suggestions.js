// The header search box's suggestions, a combobox with a listbox popup
// (WAI-ARIA APG, "list autocomplete"): htmx fills #search-suggestions as the
// viewer types; ArrowDown/ArrowUp move the active option (aria-activedescendant
// on the input, focus stays in the box), Enter opens it, Escape closes the list.
// A file of its own: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  function init() {
    var input = document.getElementById("site-search");
    var box = document.getElementById("search-suggestions");
    if (!input || !box) return;

    function options() {
      return Array.prototype.slice.call(box.querySelectorAll('[role="option"]'));
    }

    function activate(option) {
      options().forEach(function (each) {
        var on = each === option;
        each.setAttribute("aria-selected", on ? "true" : "false");
        each.classList.toggle("is-active", on);
      });
      if (option) {
        input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function opened() {
      input.setAttribute("aria-expanded", options().length ? "true" : "false");
      input.removeAttribute("aria-activedescendant");
    }

    function close() {
      box.replaceChildren();
      opened();
    }

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail && event.detail.target === box) opened();
    });

    input.addEventListener("keydown", function (event) {
      var list = options();
      if (!list.length) return;
      var active = document.getElementById(input.getAttribute("aria-activedescendant") || "");
      var at = list.indexOf(active);
      if (event.key === "ArrowDown") {
        activate(list[(at + 1) % list.length]);
      } else if (event.key === "ArrowUp") {
        activate(list[at <= 0 ? list.length - 1 : at - 1]);
      } else if (event.key === "Enter" && at >= 0) {
        window.location.assign(list[at].href);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
    });

    document.addEventListener("click", function (event) {
      if (!input.form.contains(event.target)) close();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
