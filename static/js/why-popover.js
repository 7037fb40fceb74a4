// "Why this?" on a home card floats over the page (home.css: a fixed box at
// its static position), so opening it moves nothing. This keeps the open one
// inside the window, and closes it as a popover closes: on Escape (focus goes
// back to its "Why this?"), on a click outside it, or when the page or its row
// scrolls (a fixed box would be left behind). One open at a time.
// A file of its own: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var OPEN = ".home-card details.why[open]";

  function panel(details) {
    return details.querySelector(":scope > :not(summary)");
  }

  function place(details) {
    var box = panel(details);
    if (!box) return;
    box.style.left = "";
    box.style.top = "";
    var rect = box.getBoundingClientRect();
    var margin = 8;
    if (rect.right > window.innerWidth - margin) {
      box.style.left = Math.max(margin, window.innerWidth - margin - rect.width) + "px";
    }
    if (rect.bottom > window.innerHeight - margin) {
      var above = details.querySelector("summary").getBoundingClientRect().top - rect.height - 4;
      box.style.top = Math.max(margin, above) + "px";
    }
  }

  function close(details, refocus) {
    details.open = false;
    if (refocus) details.querySelector("summary").focus();
  }

  function closeAll(except) {
    Array.prototype.forEach.call(document.querySelectorAll(OPEN), function (details) {
      if (details !== except) close(details, false);
    });
  }

  var armed = true;
  var watching = null;

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof Element) || !details.matches(".home-card details.why")) return;
    if (watching) {
      watching.disconnect();
      watching = null;
    }
    if (details.open) {
      // Opening may scroll its card into view; the scroll events of that come
      // with the next frames, and must not close it.
      armed = false;
      requestAnimationFrame(function () {
        requestAnimationFrame(function () { armed = true; });
      });
      closeAll(details);
      place(details);
      // htmx fills the panel in when it opens: place it again once it has.
      watching = new MutationObserver(function () { place(details); });
      watching.observe(details, { childList: true, subtree: true });
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var target = event.target instanceof Element ? event.target : null;
    var details = (target && target.closest(OPEN)) || document.querySelector(OPEN);
    if (!details) return;
    close(details, true);
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    closeAll(target && target.closest(".home-card details.why"));
  });

  document.addEventListener("scroll", function (event) {
    var target = event.target;
    if (target instanceof Element && target.closest(OPEN)) return; // the panel itself
    if (armed) closeAll(null);
  }, true);
})();
