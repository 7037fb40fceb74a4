// Rows of posters driven from the keyboard (WAI-ARIA APG, roving tabindex):
// each row is one Tab stop, its current card. ArrowLeft/ArrowRight move to the
// neighbouring card and scroll it into view, Home/End jump to the first and
// last, ArrowUp/ArrowDown go to the card last used in the row above/below.
// On a focused card, I (or the context-menu key, or Shift+F10) opens its
// "Why this?" and Delete presses its "Remove" (Continue watching); those
// controls stay in the card but leave the Tab order, and so does the row's
// "Skip row" link (Tab itself now skips the row). Without this file every card
// is an ordinary link in the Tab order, as the server renders it, and "Skip
// row" jumps past them.
// A file of its own: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var ROW = ".row-items";
  var CARD_LINK = ".card-link";
  var WHY = ".why > summary, .why-trigger, .why [popovertarget], .why [aria-haspopup]";
  var REMOVE = ".card-remove button";
  var FOCUSABLE =
    'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  var HINT_ID = "row-keys-hint";
  var HINT =
    "Left and right arrows: other titles in this row. Home, End: first and last. " +
    "Up and down arrows: the rows above and below. I: why this title.";

  function hint() {
    if (!document.getElementById(HINT_ID)) {
      var text = document.createElement("p");
      text.id = HINT_ID;
      text.hidden = true;
      text.textContent = HINT;
      document.body.appendChild(text);
    }
    return HINT_ID;
  }

  function links(row) {
    return Array.prototype.filter.call(row.querySelectorAll(CARD_LINK), function (link) {
      return link.closest(ROW) === row;
    });
  }

  function current(row) {
    var all = links(row);
    for (var i = 0; i < all.length; i += 1) {
      if (all[i].getAttribute("tabindex") === "0") return all[i];
    }
    return all[0] || null;
  }

  // The one link of the row in the Tab order; every other control of the row
  // (other cards, "Why this?" buttons, "Remove" buttons) out of it. What a
  // "Why this?" popover shows is left alone: it is reached from its button.
  function activate(row, link) {
    Array.prototype.forEach.call(row.querySelectorAll(FOCUSABLE), function (el) {
      if (el === link) return;
      if (el.closest(".why") && !el.matches(WHY)) return;
      el.setAttribute("tabindex", "-1");
    });
    if (link) link.setAttribute("tabindex", "0");
  }

  function enhance(row) {
    row.dataset.keyboard = "on";
    // The list itself was a Tab stop so it could be scrolled; its cards are now.
    if (row.hasAttribute("tabindex")) row.removeAttribute("tabindex");
    // "Skip row" is for rows of many Tab stops; a row of one is skipped by Tab.
    var section = row.closest("section");
    var skip = section && section.querySelector(".skip-row");
    if (skip) skip.setAttribute("tabindex", "-1");
    var id = hint();
    links(row).forEach(function (link) {
      var described = (link.getAttribute("aria-describedby") || "").split(" ");
      if (described.indexOf(id) < 0) {
        link.setAttribute("aria-describedby", described.concat(id).join(" ").trim());
      }
    });
    activate(row, current(row));
  }

  function enhanceAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches(ROW)) enhance(scope);
    Array.prototype.forEach.call(scope.querySelectorAll(ROW), enhance);
    // New content inside a row (a card's "Why this?" answer) joins it.
    var row = scope.closest && scope.closest(ROW);
    if (row && row !== scope) enhance(row);
  }

  // Focus a card and bring all of it into view. The row snaps to the start of
  // a card, so a card cut off at either edge scrolls to the row's start.
  function go(row, link) {
    if (!link) return;
    activate(row, link);
    link.focus({ preventScroll: true });
    var card = link.closest("li") || link;
    var box = card.getBoundingClientRect();
    var view = row.getBoundingClientRect();
    var whole = box.left >= view.left - 1 && box.right <= view.right + 1;
    card.scrollIntoView({ block: "nearest", inline: whole ? "nearest" : "start" });
  }

  function neighbourRow(row, step) {
    var rows = Array.prototype.filter.call(document.querySelectorAll(ROW), function (each) {
      return links(each).length > 0;
    });
    return rows[rows.indexOf(row) + step] || null;
  }

  function onCardKey(event, link, row) {
    var all = links(row);
    var at = all.indexOf(link);
    var card = link.closest("li") || link.parentElement;
    var key = event.key;
    if (key === "ArrowRight") {
      go(row, all[Math.min(at + 1, all.length - 1)]);
    } else if (key === "ArrowLeft") {
      go(row, all[Math.max(at - 1, 0)]);
    } else if (key === "Home") {
      go(row, all[0]);
    } else if (key === "End") {
      go(row, all[all.length - 1]);
    } else if (key === "ArrowDown" || key === "ArrowUp") {
      var other = neighbourRow(row, key === "ArrowDown" ? 1 : -1);
      if (!other) return;
      go(other, current(other));
    } else if (key === "i" || key === "I" || key === "ContextMenu" ||
               (key === "F10" && event.shiftKey)) {
      var why = card.querySelector(WHY);
      if (!why) return;
      why.click();
      why.focus();
    } else if (key === "Delete") {
      var remove = card.querySelector(REMOVE);
      if (!remove) return;
      var next = all[at + 1] || all[at - 1];
      var beyond = next ? null : neighbourRow(row, 1) || neighbourRow(row, -1);
      remove.click();
      if (next) go(row, next);
      else if (beyond) go(beyond, current(beyond));
    } else {
      return;
    }
    event.preventDefault();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (!(target instanceof Element)) return;
    var row = target.closest(ROW);
    if (!row || row.dataset.keyboard !== "on") return;
    if (target.matches(CARD_LINK)) {
      onCardKey(event, target, row);
    } else if (event.key === "Escape" && target.closest(".why")) {
      // Back from "Why this?" to its card.
      var details = target.closest("details.why");
      if (details) details.open = false;
      var card = target.closest("li");
      var link = card && card.querySelector(CARD_LINK);
      if (link) {
        event.preventDefault();
        go(row, link);
      }
    }
  });

  // A card focused any other way (a click, a script) becomes the row's stop.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.matches(CARD_LINK)) return;
    var row = target.closest(ROW);
    if (row && row.dataset.keyboard === "on" && target.getAttribute("tabindex") !== "0") {
      activate(row, target);
    }
  });

  // Rows arrive with the page and in htmx swaps (mood chips, "More like this").
  document.addEventListener("htmx:load", function (event) {
    enhanceAll(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  } else {
    enhanceAll(document);
  }
})();
