// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // The DKFDS components a swapped fragment may hold. DKFDS.init({scope}) is not usable for
  // a fragment: it always initialises the header's navigation too (document-wide), which adds
  // another "Mere" overflow menu on every swap.
  var FRAGMENT_COMPONENTS = [
    [".accordion, .accordion-bordered", "Accordion"],
    [".alert.has-close", "Alert"],
    [".form-limit", "CharacterLimit"],
    [".js-checkbox-toggle-content", "CheckboxToggleContent"],
    [".js-dropdown", "Dropdown"],
    [".js-radio-toggle-group", "RadioToggleGroup"],
    ["[data-module=\"error-summary\"]", "ErrorSummary"],
    ["div.tab-container", "Tabs"],
    [".tooltip-wrapper", "Tooltip"]
  ];

  function initPage() {
    if (window.DKFDS && typeof window.DKFDS.init === "function") {
      window.DKFDS.init();
    }
  }

  function initFragment(scope) {
    if (!window.DKFDS || !scope) {
      return;
    }
    FRAGMENT_COMPONENTS.forEach(function (entry) {
      var Component = window.DKFDS[entry[1]];
      if (typeof Component !== "function") {
        return;
      }
      scope.querySelectorAll(entry[0]).forEach(function (element) {
        try {
          new Component(element).init();
        } catch (error) {
          // a component DKFDS cannot set up leaves plain, working HTML behind
        }
      });
    });
  }

  function announce(text) {
    var region = document.getElementById("status-region");
    if (region && text) {
      region.textContent = "";
      window.setTimeout(function () { region.textContent = text; }, 50);
    }
  }

  function focusFirst(scope) {
    // After a swap: the error summary if there is one, else the element marked for focus
    // (a results heading), so keyboard and screen-reader users land on what changed.
    var target = scope.querySelector("[data-error-summary]") || scope.querySelector("[data-focus-after-swap]");
    if (!target && scope.matches && scope.matches("[data-focus-after-swap]")) {
      target = scope;
    }
    if (target) {
      if (!target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    initPage();
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["HX-CSRF-Token"] = meta.getAttribute("content");
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target) {
      target.setAttribute("aria-busy", "true");
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    target.removeAttribute("aria-busy");
    initFragment(target);
    var status = target.querySelector("[data-status-text]");
    if (status) {
      announce(status.getAttribute("data-status-text"));
    }
    focusFirst(target);
  });

  document.addEventListener("htmx:responseError", function (event) {
    var target = event.detail.target;
    if (target) {
      target.removeAttribute("aria-busy");
    }
    announce("Der skete en fejl. Prøv igen.");
  });
})();
