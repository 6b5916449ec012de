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
