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

/* #19: the person picker, an ARIA 1.2 combobox: typing asks the server for matching people
   (only those the viewer may see), ArrowUp/ArrowDown move through them, Enter picks one,
   Escape closes the list. The form sends the picked login from a hidden field, so a
   filter matches the person exactly, never by a part of a name. */
(function () {
  "use strict";
  function setup(box) {
    if (box.dataset.pickerReady) return;
    box.dataset.pickerReady = "1";
    var input = box.querySelector("[data-picker-input]");
    var hidden = box.querySelector("[data-picker-value]");
    var list = box.querySelector("[role=listbox]");
    var url = box.dataset.pickerUrl;
    var active = -1, timer = null, asked = 0;

    function options() { return list.querySelectorAll("[role=option]"); }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      var all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach(function (o, i) { o.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }
    function pick(option) {
      input.value = option.dataset.name;
      hidden.value = option.dataset.value;
      close();
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function show(people, more) {
      list.textContent = "";
      people.forEach(function (p, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.value = p.id;
        li.dataset.name = p.name;
        li.textContent = p.name + (p.name !== p.id ? " (" + p.id + ")" : "");
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(li); });
        list.appendChild(li);
      });
      if (more) {
        var hint = document.createElement("li");
        hint.className = "picker-more";
        hint.setAttribute("aria-hidden", "true");
        hint.textContent = "…";
        list.appendChild(hint);
      }
      list.hidden = people.length === 0;
      input.setAttribute("aria-expanded", people.length ? "true" : "false");
      active = -1;
    }
    function ask() {
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(input.value), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { people: [] }; })
        .then(function (data) { if (mine === asked) show(data.people || [], data.more); });
    }
    input.addEventListener("input", function () {
      if (hidden.value) {
        hidden.value = "";
        if (!input.value) hidden.dispatchEvent(new Event("change", { bubbles: true }));
      }
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("change", function (e) { e.stopPropagation(); });
    input.addEventListener("keydown", function (e) {
      var open = !list.hidden;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!open) { ask(); return; }
        highlight(active + 1);
      } else if (e.key === "ArrowUp" && open) {
        e.preventDefault();
        highlight(active - 1);
      } else if (e.key === "Enter" && open && active >= 0) {
        e.preventDefault();
        pick(options()[active]);
      } else if (e.key === "Escape" && open) {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }
  function all() { document.querySelectorAll("[data-picker-url]").forEach(setup); }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSettle", all);
})();
