// The retention policy form: picking a category fills "days to keep" in with that category's
// default period (from the menu's data-default-days), unless the field was typed in by hand.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var menu = document.querySelector("select[data-default-days]");
    var days = document.getElementById("id_days_to_keep");
    if (!menu || !days) {
      return;
    }
    var defaults = JSON.parse(menu.dataset.defaultDays);
    var typed = false;
    days.addEventListener("input", function () {
      typed = true;
    });
    menu.addEventListener("change", function () {
      if (!typed && defaults[menu.value] !== undefined) {
        days.value = defaults[menu.value];
      }
    });
  });
})();
