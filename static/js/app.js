// Behaviour for every page, kept out of the HTML: the Content-Security-Policy allows no
// inline script or event handler attributes.
"use strict";

// A <select data-submit-on-change> submits its form when a choice is made (the language
// switcher; its <noscript> button does the same without JavaScript).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change")) {
    field.form.submit();
  }
});

// A table too wide for the screen scrolls inside its .table-wrap: keyboard users reach it
// with Tab (and scroll it with the arrow keys) only when it really scrolls.
function markScrollableTables() {
  for (const wrap of document.querySelectorAll(".table-wrap")) {
    if (wrap.scrollWidth > wrap.clientWidth) {
      wrap.setAttribute("tabindex", "0");
    } else {
      wrap.removeAttribute("tabindex");
    }
  }
}
document.addEventListener("DOMContentLoaded", markScrollableTables);
window.addEventListener("resize", markScrollableTables);
