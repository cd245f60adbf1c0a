/* #19: a table or text block too wide for the screen scrolls within itself; so that a keyboard
   can scroll it too, it becomes focusable while it overflows (axe: scrollable-region-focusable). */
(function () {
  "use strict";
  var SCROLLERS = "table.dense, table.timeline, .table-scroll, pre";
  function mark() {
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.dataset.scrollFocus = "1";
      } else if (!scrolls && el.dataset.scrollFocus) {
        el.removeAttribute("tabindex");
        delete el.dataset.scrollFocus;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSettle", mark);
  window.addEventListener("resize", mark);
})();
