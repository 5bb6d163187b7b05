// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function initDesignSystem(scope) {
    if (window.DKFDS && typeof window.DKFDS.init === "function") {
      window.DKFDS.init(scope ? { scope: scope } : undefined);
    }
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
    initDesignSystem();
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
    initDesignSystem(target);
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
