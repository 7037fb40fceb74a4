// Select2's search box for choosing several items (the admin's autocomplete)
// has no label of its own: it takes its field's, as a screen reader needs.
(function () {
  "use strict";
  function labelSearchBoxes() {
    document.querySelectorAll(".select2-search__field:not([aria-label])").forEach(function (input) {
      var container = input.closest(".select2-container");
      var select = container && container.previousElementSibling;
      var label = select && select.id && document.querySelector('label[for="' + select.id + '"]');
      var text = label ? label.textContent.replace(/:\s*$/, "").trim() : "";
      input.setAttribute("aria-label", text ? "Search " + text.toLowerCase() : "Search");
    });
  }
  new MutationObserver(labelSearchBoxes).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", labelSearchBoxes);
})();
